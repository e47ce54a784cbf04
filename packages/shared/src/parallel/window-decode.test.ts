import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Compression } from '../format/codec-ids.js';
import { generateMasterKeys, type MasterKeys } from '../format/master-keys.js';
import { chunkHasher } from '../format/chunk-hasher.js';
import { ID_BYTES } from '../format/ids.js';
import { buildFrames, framesOutBytes, type BuiltFrame } from './chunk-frames.js';
import { CHUNK_FIELDS, decodeWindow, directLandings, FRAME_FIELDS, type WindowRequest } from './window-decode.js';

const CHUNK = 4096;
const CHUNKS = 16;

/** Compressible text-like bytes (zstd frames) or random bytes (raw frames). */
function volume(bytes: number, compressible: boolean): Uint8Array {
  if (!compressible) return randomBytes(bytes);
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = 97 + ((i * 7 + (i >> 9)) % 13);
  // Distinct chunks: a counter in each, so no two chunks share an id.
  for (let c = 0; c * CHUNK < bytes; c++) out[c * CHUNK] = c;
  return out;
}

interface Fixture {
  data: Uint8Array;
  ids: Uint8Array;
  frames: BuiltFrame[];
  run: Uint8Array;
  /** Per chunk of data: its frame and offset in that frame's plaintext. */
  where: { frame: number; offset: number; length: number }[];
}

/** Two frames of 8 chunks each over `data`, stored back to back in one run. */
function framed(keys: MasterKeys, data: Uint8Array): Fixture {
  const ids = new Uint8Array(CHUNKS * ID_BYTES);
  chunkHasher.chunks(keys.idRaw, data, CHUNK, ids, true);
  const out = new Uint8Array(framesOutBytes(data.length, CHUNKS));
  const frames = buildFrames(
    data,
    CHUNK,
    Uint32Array.from({ length: CHUNKS }, (_, i) => i),
    ids,
    1,
    keys.enc,
    8 * CHUNK,
    out,
  );
  const where: Fixture['where'] = [];
  frames.forEach((f, frame) => {
    let offset = 0;
    for (const length of f.lengths) {
      where.push({ frame, offset, length });
      offset += length;
    }
  });
  const run = out.slice(
    0,
    frames.reduce((n, f) => n + f.storedLength, 0),
  );
  return { data, ids, frames, run, where };
}

/**
 * A window whose position p holds chunk order[p] of the fixture (-1: a hole), with a fresh copy
 * of the run (decoding may overwrite it) and the ids the positions expect.
 */
function windowOf(fx: Fixture, order: number[], chunkSize = CHUNK): WindowRequest {
  const frames = new Float64Array(fx.frames.length * FRAME_FIELDS);
  let at = 0;
  fx.frames.forEach((f, i) => {
    frames.set([0, at, f.storedLength, f.rawLength, f.compression], i * FRAME_FIELDS);
    at += f.storedLength;
  });
  const chunks = new Float64Array(order.length * CHUNK_FIELDS);
  const ids = new Uint8Array(order.length * ID_BYTES);
  order.forEach((c, p) => {
    if (c < 0) return chunks.set([-1, 0, 0], p * CHUNK_FIELDS);
    const w = fx.where[c]!;
    chunks.set([w.frame, w.offset, w.length], p * CHUNK_FIELDS);
    ids.set(fx.ids.subarray(c * ID_BYTES, (c + 1) * ID_BYTES), p * ID_BYTES);
  });
  // The window lives in shared memory, as in a restore.
  return { runs: [fx.run.slice()], frames, chunks, ids, chunkSize, out: new Uint8Array(new SharedArrayBuffer(order.length * chunkSize)) };
}

/** What the window must hold: chunk order[p] at position p; holes are left as they were (0). */
function expected(fx: Fixture, order: number[]): Uint8Array {
  const out = new Uint8Array(order.length * CHUNK);
  order.forEach((c, p) => {
    if (c >= 0) out.set(fx.data.subarray(c * CHUNK, c * CHUNK + fx.where[c]!.length), p * CHUNK);
  });
  return out;
}

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const inOrder = Array.from({ length: CHUNKS }, (_, i) => i);

describe.each([
  ['encrypted, zstd frames', true, true],
  ['encrypted, raw frames', true, false],
  ['unencrypted, zstd frames', false, true],
  ['unencrypted, raw frames', false, false],
])('restore window decoding (%s)', (_name, encrypted, compressible) => {
  const keys = generateMasterKeys(encrypted);
  const fx = framed(keys, volume(CHUNKS * CHUNK, compressible));
  const decode = (req: WindowRequest) => decodeWindow(req, keys.enc, keys.idRaw);

  it('builds frames of the expected compression', () => {
    expect(fx.frames).toHaveLength(2);
    for (const f of fx.frames) expect(f.compression).toBe(compressible ? Compression.Zstd : Compression.None);
  });

  it('decodes frames whose chunks fill consecutive positions straight into the window', () => {
    const req = windowOf(fx, inOrder);
    expect(Array.from(directLandings(req, 2))).toEqual([0, 8 * CHUNK]);
    expect(decode(req)).toEqual({});
    expect(digest(req.out)).toBe(digest(fx.data));
  });

  it('decodes aside and copies when chunks are reordered, repeated, partial or around holes', () => {
    const orders = [
      [7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15], // frame 0 reversed, frame 1 in order
      [0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], // a repeated chunk (deduplicated data)
      [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15], // part of frame 0 only
      [0, 1, 2, 3, -1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], // a hole inside frame 0's run
      [8, 0, 9, 1, 10, 2, 11, 3, 12, 4, 13, 5, 14, 6, 15, 7], // both frames aside, interleaved
      [15, 14, 13, 12, 11, 10, 9, 8, 3, 2, 1, 0], // both aside, the later frame first
    ];
    const landings = [
      [-1, 8 * CHUNK],
      [-1, 9 * CHUNK],
      [-1, 4 * CHUNK],
      [-1, 9 * CHUNK],
      [-1, -1],
      [-1, -1],
    ];
    orders.forEach((order, k) => {
      const req = windowOf(fx, order);
      expect(Array.from(directLandings(req, 2))).toEqual(landings[k]);
      expect(decode(req)).toEqual({});
      expect(digest(req.out)).toBe(digest(expected(fx, order)));
    });
  });

  it('lands a frame whose last chunk is short (the end of a volume)', () => {
    const short = framed(keys, volume(CHUNKS * CHUNK - 100, compressible));
    const req = windowOf(short, inOrder);
    expect(Array.from(directLandings(req, 2))).toEqual([0, 8 * CHUNK]);
    expect(decode(req)).toEqual({});
    expect(digest(req.out.subarray(0, short.data.length))).toBe(digest(short.data));
  });

  it('names the first chunk of a frame that fails to decode, in either path', () => {
    for (const order of [inOrder, [7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15]]) {
      const req = windowOf(fx, order);
      const second = fx.frames[1]!;
      req.runs[0]![second.offset + Math.floor(second.storedLength / 2)]! ^= 0xff;
      const result = decode(req);
      if (encrypted) {
        expect(result.failure).toMatchObject({ chunk: 8, frame: 1, message: expect.stringMatching(/authentication failed/) });
      } else {
        // Unsealed bytes fail in zstd or in a chunk's id check, at or after the frame's start.
        expect(result.failure).toMatchObject({ frame: 1 });
        expect(result.failure!.chunk).toBeGreaterThanOrEqual(8);
      }
    }
  });

  it('refuses a frame longer than the index says instead of writing past its place', () => {
    const req = windowOf(fx, inOrder.slice(0, 15));
    // Frame 1 claims one chunk less than it holds; position 15 is beyond the window.
    req.frames[1 * FRAME_FIELDS + 3] = 7 * CHUNK;
    const guard = new Uint8Array(16 * CHUNK).fill(0xab);
    req.out = guard.subarray(0, 15 * CHUNK);
    const result = decode(req);
    expect(result.failure).toMatchObject({ chunk: 8, frame: 1 });
    expect(guard.subarray(15 * CHUNK).every((b) => b === 0xab)).toBe(true);
  });
});
