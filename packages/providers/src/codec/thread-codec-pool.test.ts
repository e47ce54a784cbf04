import { afterAll, describe, expect, it } from 'vitest';
import {
  CHUNK_FIELDS,
  createInlineCodecPool,
  framesOutBytes,
  FRAME_FIELDS,
  generateMasterKeys,
  SharedBufferPool,
  type BuiltFrame,
} from '@snapfleet/shared/codec';
import { seededBytes } from '@snapfleet/shared/testing';
import { createThreadCodecPool, startCodecThreads } from './thread-codec-pool.js';

// The thread pool runs the compiled worker (dist/); `pnpm test` builds before testing.
const keys = generateMasterKeys(true);
/** The hole id: 32 zero bytes, given to chunks of zeros. */
const isHole = (ids: Uint8Array, at: number) => ids.subarray(at, at + 32).every((b) => b === 0);

/** 1 MiB of compressible, random and zero 4 KiB chunks, as volumes hold. */
function makeVolume(seed: number): Buffer {
  const out = Buffer.alloc(1 << 20);
  const random = seededBytes(1 << 20, seed);
  for (let chunk = 0; chunk < 256; chunk++) {
    const at = chunk * 4096;
    if (chunk % 4 === 1) out.write('block volume snapshot '.repeat(187), at, 4096);
    else if (chunk % 4 === 2) out.set(random.subarray(at, at + 4096), at);
    // otherwise a chunk of zeros: a hole
  }
  return out;
}
const threads = createThreadCodecPool(keys, 2);
const inline = createInlineCodecPool(keys);
afterAll(() => threads.close());

describe('thread codec pool', () => {
  it('ids chunks of shared memory exactly as the inline pool does', async () => {
    const slot = await new SharedBufferPool(1 << 20, 1).acquire();
    slot.set(makeVolume(11));
    const [a, b] = await Promise.all([threads.hashChunks(slot, 4096), inline.hashChunks(slot, 4096)]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.byteLength).toBe(256 * 32);
  });

  it('frames new chunks and decodes a window back to the same bytes, checking ids', async () => {
    const slots = new SharedBufferPool(1 << 20, 2);
    const data = await slots.acquire();
    data.set(makeVolume(12));
    const ids = await threads.hashChunks(data, 4096);
    const stored = Array.from({ length: 256 }, (_, i) => i).filter((i) => !isHole(ids, i * 32));
    expect(stored.length).toBeLessThan(256); // the test volume has zero runs (holes)
    const chunks = Uint32Array.from(stored);
    const outSlots = new SharedBufferPool(framesOutBytes(1 << 20, chunks.length), 1);
    const framesOut = await outSlots.acquire();
    const frames = await threads.chunkFrames({ data, chunkSize: 4096, chunks, blockIds: ids, level: 3, frameSize: 256 * 1024, out: framesOut });
    expect(frames.reduce((n, f) => n + f.lengths.length, 0)).toBe(stored.length);
    const storedOf = (f: BuiltFrame) => framesOut.subarray(f.offset, f.offset + f.storedLength);
    // The frames lie back to back from the start of the output slot.
    frames.forEach((f, i) => expect(f.offset).toBe(i === 0 ? 0 : frames[i - 1]!.offset + frames[i - 1]!.storedLength));

    // One run holding every frame back to back, and a window that asks for every chunk.
    const run = Buffer.concat(frames.map(storedOf));
    const frameTable = new Float64Array(frames.length * FRAME_FIELDS);
    const placement = new Float64Array(256 * CHUNK_FIELDS);
    for (let i = 0; i < 256; i++) placement[i * CHUNK_FIELDS] = -1;
    let next = 0;
    let at = 0;
    frames.forEach((f, fi) => {
      frameTable.set([0, at, f.storedLength, f.rawLength, f.compression], fi * FRAME_FIELDS);
      at += f.storedLength;
      let inFrame = 0;
      f.lengths.forEach((len) => {
        const chunk = stored[next++]!;
        placement.set([fi, inFrame, len], chunk * CHUNK_FIELDS);
        inFrame += len;
      });
    });
    const out = await slots.acquire();
    const result = await threads.decodeWindow({ runs: [new Uint8Array(run)], frames: frameTable, chunks: placement, ids, chunkSize: 4096, out });
    expect(result.failure).toBeUndefined();
    expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);

    // A chunk placed at the wrong offset fails its id check and is named.
    const victim = stored[5]!;
    placement[victim * CHUNK_FIELDS + 1] = placement[victim * CHUNK_FIELDS + 1]! + 4096;
    const bad = await threads.decodeWindow({ runs: [new Uint8Array(run)], frames: frameTable, chunks: placement, ids, chunkSize: 4096, out });
    expect(bad.failure).toMatchObject({ chunk: victim, message: 'content does not match its id' });
  });
});

describe('warm threads', () => {
  it('closes while the threads warm() started are still loading, without a crash', async () => {
    const started = startCodecThreads(2);
    started.warm();
    // Closing at once is what a command does on a wrong password: close must wait for the load.
    await expect(started.close()).resolves.toBeUndefined();
  });

  it('runs tasks on threads warm() started', async () => {
    const started = startCodecThreads(2);
    started.warm();
    const pool = started.withKeys(keys);
    try {
      const slot = await new SharedBufferPool(1 << 20, 1).acquire();
      slot.set(makeVolume(13));
      const [a, b] = await Promise.all([pool.hashChunks(slot, 4096), inline.hashChunks(slot, 4096)]);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
