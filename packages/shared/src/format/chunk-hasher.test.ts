import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobId, ID_BYTES } from './ids.js';
import { chunkHasher, nativeChunkHasher, nodeCryptoChunkHasher, type ChunkHasher } from './chunk-hasher.js';
import { native, nativeError } from './native.js';

const key = randomBytes(32);
const keyObject = createSecretKey(key);

/** Three full chunks (the middle one all zero) and a short tail, on shared memory at an odd offset. */
function block(chunkSize: number): Uint8Array {
  const data = new Uint8Array(new SharedArrayBuffer(3 * chunkSize + 200), 7, 3 * chunkSize + 100);
  data.set(randomBytes(data.length));
  data.fill(0, chunkSize, 2 * chunkSize);
  return data;
}

describe('the native chunk hasher', () => {
  it('is built and loads, so archive and restore take the fast path', () => {
    expect(nativeError).toBeUndefined();
    expect(chunkHasher.kind).toBe('native');
  });
});

describe.each([
  ['native', nativeChunkHasher],
  ['node:crypto', nodeCryptoChunkHasher],
] as [string, ChunkHasher | undefined][])('%s chunk hasher', (_name, hasher) => {
  it.each([4096, 1000])('gives blobId of every %d-byte chunk, the hole id for zero chunks only when asked', (chunkSize) => {
    const data = block(chunkSize);
    const pieces = [0, 1, 2, 3].map((i) => data.subarray(i * chunkSize, Math.min(data.length, (i + 1) * chunkSize)));
    const asHoles = new Uint8Array(4 * ID_BYTES).fill(0xee);
    hasher!.chunks(key, data, chunkSize, asHoles, true);
    const hashed = new Uint8Array(4 * ID_BYTES);
    hasher!.chunks(key, data, chunkSize, hashed, false);
    pieces.forEach((piece, i) => {
      const want = i === 1 ? new Uint8Array(ID_BYTES) : blobId(keyObject, piece);
      expect(Buffer.from(asHoles.subarray(i * ID_BYTES, (i + 1) * ID_BYTES))).toEqual(Buffer.from(want));
      expect(Buffer.from(hashed.subarray(i * ID_BYTES, (i + 1) * ID_BYTES))).toEqual(blobId(keyObject, piece));
    });
  });

  it('gives blobId of every span, and refuses a span past the end', () => {
    const data = block(4096);
    const spans = new Uint32Array([5, 100, 4096, 4096, data.length - 1, 1, 0, 0]);
    const out = new Uint8Array(4 * ID_BYTES);
    hasher!.spans(key, data, spans, out);
    for (let i = 0; i < 4; i++) {
      const piece = data.subarray(spans[i * 2]!, spans[i * 2]! + spans[i * 2 + 1]!);
      expect(Buffer.from(out.subarray(i * ID_BYTES, (i + 1) * ID_BYTES))).toEqual(blobId(keyObject, piece));
    }
    expect(() => hasher!.spans(key, data, new Uint32Array([data.length - 10, 11]), out)).toThrow(/past the end/);
  });

  it('hashes a key longer than the hash block as HMAC does', () => {
    const longKey = randomBytes(100);
    const data = block(4096);
    const out = new Uint8Array(ID_BYTES);
    hasher!.spans(longKey, data, new Uint32Array([0, 4096]), out);
    expect(Buffer.from(out)).toEqual(blobId(createSecretKey(longKey), data.subarray(0, 4096)));
  });
});

describe('the native addon', () => {
  it('refuses an output too small for the ids, naming it', () => {
    const data = block(4096);
    expect(() => nativeChunkHasher!.chunks(key, data, 4096, new Uint8Array(ID_BYTES), true)).toThrow(/out is too small/);
    expect(() => nativeChunkHasher!.spans(key, data, new Uint32Array([0, 1, 0, 2]), new Uint8Array(ID_BYTES))).toThrow(/out is too small/);
    const loose = native as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => loose.hmacChunks!(key, data, 4096)).toThrow(/hmacChunks takes/);
    expect(() => loose.hmacSpans!(key, data, [0, 1], new Uint8Array(ID_BYTES))).toThrow(/spans must be a Uint32Array/);
  });
});
