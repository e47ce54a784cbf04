/**
 * Blob ids for many chunks at once: the same HMAC-SHA-256 as blobId (ids.ts), for every chunk of
 * a block or every span of a frame in one call. Hashing 4 KiB chunks one node:crypto call at a
 * time spends as long on each call as on the hash, so archive and restore go through the native
 * addon (native.ts), which keys the hash once and crosses into native code once per
 * block. Where the addon is not built, node:crypto gives the same ids more slowly.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { ID_BYTES } from './ids.js';
import { native } from './native.js';

export interface ChunkHasher {
  readonly kind: 'native' | 'node:crypto';
  /**
   * The id of each `chunkSize` piece of `data` (the last may be shorter), 32 bytes each into
   * `out`; with `zeroAsHole`, an all-zero piece gets the hole id (32 zero bytes) instead.
   */
  chunks(key: Uint8Array, data: Uint8Array, chunkSize: number, out: Uint8Array, zeroAsHole: boolean): void;
  /** The id of each (offset, length) pair of `spans` within `data`, 32 bytes each into `out`. */
  spans(key: Uint8Array, data: Uint8Array, spans: Uint32Array, out: Uint8Array): void;
}

export const nodeCryptoChunkHasher: ChunkHasher = {
  kind: 'node:crypto',
  chunks(key, data, chunkSize, out, zeroAsHole) {
    const k = createSecretKey(key);
    const zero = zeroAsHole ? Buffer.alloc(chunkSize) : undefined;
    for (let i = 0, at = 0; at < data.length; i++, at += chunkSize) {
      const chunk = data.subarray(at, Math.min(data.length, at + chunkSize));
      if (zero && Buffer.compare(chunk, zero.subarray(0, chunk.length)) === 0) out.fill(0, i * ID_BYTES, (i + 1) * ID_BYTES);
      else out.set(hmac(k, chunk), i * ID_BYTES);
    }
  },
  spans(key, data, spans, out) {
    const k = createSecretKey(key);
    for (let i = 0; i * 2 < spans.length; i++) {
      const at = spans[i * 2]!;
      const length = spans[i * 2 + 1]!;
      if (at + length > data.length) throw new RangeError('a span reaches past the end of data');
      out.set(hmac(k, data.subarray(at, at + length)), i * ID_BYTES);
    }
  },
};

function hmac(key: KeyObject, data: Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** The native hasher, or undefined when the addon cannot load (see nativeError in native.ts). */
export const nativeChunkHasher: ChunkHasher | undefined = native && {
  kind: 'native',
  chunks: (key, data, chunkSize, out, zeroAsHole) => native!.hmacChunks(key, data, chunkSize, out, zeroAsHole),
  spans: (key, data, spans, out) => native!.hmacSpans(key, data, spans, out),
};

/** The fastest hasher this process can load. */
export const chunkHasher: ChunkHasher = nativeChunkHasher ?? nodeCryptoChunkHasher;

/**
 * Checks `spans` of `data` in one hashing call: the positions k whose id differs from the one
 * expected, which is id number expectedAt[k] of `expected`.
 */
export function mismatchedSpans(key: Uint8Array, data: Uint8Array, spans: Uint32Array, expected: Uint8Array, expectedAt: readonly number[]): number[] {
  const got = Buffer.allocUnsafe(expectedAt.length * ID_BYTES);
  chunkHasher.spans(key, data, spans, got);
  const want = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  const bad: number[] = [];
  expectedAt.forEach((e, k) => {
    if (got.compare(want, e * ID_BYTES, (e + 1) * ID_BYTES, k * ID_BYTES, (k + 1) * ID_BYTES) !== 0) bad.push(k);
  });
  return bad;
}
