import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../format/frame-codec.js';
import { chunkHasher } from '../format/chunk-hasher.js';
import { generateMasterKeys } from '../format/master-keys.js';
import { ID_BYTES } from '../format/ids.js';
import { buildFrames, framesOutBytes } from './chunk-frames.js';

const CHUNK = 4096;
const keys = generateMasterKeys(true);
// Half random, half repeated text: some frames compress, and every chunk differs.
const data = Buffer.concat([randomBytes(8 * CHUNK), Buffer.alloc(8 * CHUNK, 'snapfleet ')]);
for (let c = 0; c < 16; c++) data[c * CHUNK + 1] = c;
const ids = new Uint8Array(16 * ID_BYTES);
chunkHasher.chunks(keys.idRaw, data, CHUNK, ids, true);

/** Each frame's plaintext must be its chunks in the order given, with their ids and lengths. */
function checkFrames(chunks: number[], frameSize: number) {
  const out = new Uint8Array(framesOutBytes(data.length, chunks.length));
  const frames = buildFrames(data, CHUNK, Uint32Array.from(chunks), ids, 1, keys.enc, frameSize, out);
  let next = 0;
  for (const f of frames) {
    const plain = decodeFrame(out.subarray(f.offset, f.offset + f.storedLength), f.compression, f.rawLength, keys.enc, 'frame');
    const want = f.lengths.length;
    const expected = Buffer.concat(chunks.slice(next, next + want).map((c) => data.subarray(c * CHUNK, (c + 1) * CHUNK)));
    expect(Buffer.compare(plain, expected)).toBe(0);
    const expectedIds = Buffer.concat(chunks.slice(next, next + want).map((c) => ids.subarray(c * ID_BYTES, (c + 1) * ID_BYTES)));
    expect(Buffer.compare(f.ids, expectedIds)).toBe(0);
    next += want;
  }
  expect(next).toBe(chunks.length);
  return frames;
}

describe('buildFrames', () => {
  it('frames adjacent chunks straight from the block, split at the frame size', () => {
    expect(checkFrames([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 4 * CHUNK)).toHaveLength(4);
  });

  it('gathers chunks that are not adjacent, in the order given', () => {
    checkFrames([0, 2, 3, 5, 9, 10, 15], 4 * CHUNK);
    // Out of order, with first and last one apart as if adjacent: still gathered as given.
    checkFrames([0, 3, 2], 4 * CHUNK);
  });
});
