/**
 * The CPU-heavy steps of archive and restore as plain functions over bytes, so that they run the
 * same in a worker thread (codec-worker.ts) and inline (tests, tiny jobs).
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { CompressionId } from '../format/codec-ids.js';
import { blobId, ID_BYTES } from '../format/ids.js';
import { decodeFrame, encodeFrame, type EncodedFrame } from '../content/frame-codec.js';
import { CorruptDataError } from '../errors.js';
import { buildFrames, type BuiltFrame } from './chunk-frames.js';
import { decodeWindow, type WindowRequest, type WindowResult } from './window-decode.js';

export interface HashRequest {
  data: Uint8Array;
  chunkSize: number;
  idKey: Uint8Array;
}
/** One id per chunk, 32 bytes each; all-zero chunks get the all-zero hole id. */
export type HashResult = Uint8Array;

export interface EncodeRequest {
  raw: Uint8Array;
  level: number;
  encKey: Uint8Array | undefined;
}
export type EncodeResult = EncodedFrame;

export interface ChunkFramesRequest {
  data: Uint8Array;
  chunkSize: number;
  /** Indices of the block's chunks to store. */
  chunks: Uint32Array;
  /** Ids of every chunk of the block, 32 bytes each. */
  blockIds: Uint8Array;
  level: number;
  frameSize: number;
  /** Where the stored frames go (shared memory): framesOutBytes(new bytes, new chunks) or more. */
  out: Uint8Array;
  encKey: Uint8Array | undefined;
}

export interface WindowTask extends WindowRequest {
  encKey: Uint8Array | undefined;
  idKey: Uint8Array;
}

export interface DecodeRequest {
  stored: Uint8Array;
  compression: CompressionId;
  rawLength: number;
  encKey: Uint8Array | undefined;
  idKey: Uint8Array;
  /** Blobs to check against their ids: offset/length pairs into the plaintext. */
  spans: Uint32Array;
  /** The expected ids, 32 bytes per span. */
  ids: Uint8Array;
  /** Only check: do not send the plaintext back (verify reads gigabytes it never keeps). */
  checkOnly?: boolean;
}
export interface DecodeResult {
  raw?: Uint8Array;
  /** Why the whole frame failed (authentication, zstd), when it did. */
  error?: string;
  /** Indices of spans whose plaintext does not hash to the expected id. */
  badSpans: number[];
}

const keyCache = new Map<string, KeyObject>();
function keyObject(bytes: Uint8Array): KeyObject {
  const cacheKey = Buffer.from(bytes).toString('latin1');
  let key = keyCache.get(cacheKey);
  if (!key) {
    // A process opens a handful of repositories at most; the cache never grows past that.
    if (keyCache.size > 16) keyCache.clear();
    key = createSecretKey(Buffer.from(bytes));
    keyCache.set(cacheKey, key);
  }
  return key;
}

const ZERO_CHUNK_CACHE = new Map<number, Buffer>();
function zeroChunk(size: number): Buffer {
  let z = ZERO_CHUNK_CACHE.get(size);
  if (!z) ZERO_CHUNK_CACHE.set(size, (z = Buffer.alloc(size)));
  return z;
}

export function hashChunks(req: HashRequest): HashResult {
  const key = keyObject(req.idKey);
  const data = Buffer.from(req.data.buffer, req.data.byteOffset, req.data.byteLength);
  const n = Math.ceil(data.length / req.chunkSize);
  const ids = Buffer.alloc(n * ID_BYTES);
  for (let i = 0; i < n; i++) {
    const chunk = data.subarray(i * req.chunkSize, Math.min(data.length, (i + 1) * req.chunkSize));
    if (chunk.equals(zeroChunk(chunk.length))) continue;
    blobId(key, chunk).copy(ids, i * ID_BYTES);
  }
  return ids;
}

export function encode(req: EncodeRequest): EncodeResult {
  return encodeFrame(req.raw, req.level, req.encKey && keyObject(req.encKey));
}

export function chunkFrames(req: ChunkFramesRequest): BuiltFrame[] {
  return buildFrames(req.data, req.chunkSize, req.chunks, req.blockIds, req.level, req.encKey && keyObject(req.encKey), req.frameSize, req.out);
}

export function window(req: WindowTask): WindowResult {
  return decodeWindow(req, req.encKey && keyObject(req.encKey), keyObject(req.idKey));
}

export function decode(req: DecodeRequest): DecodeResult {
  let raw: Buffer;
  try {
    raw = decodeFrame(req.stored, req.compression, req.rawLength, req.encKey && keyObject(req.encKey), 'frame');
  } catch (err) {
    if (err instanceof CorruptDataError) return { error: err.message, badSpans: [] };
    throw err;
  }
  const key = keyObject(req.idKey);
  const ids = Buffer.from(req.ids.buffer, req.ids.byteOffset, req.ids.byteLength);
  const badSpans: number[] = [];
  for (let i = 0; i * 2 < req.spans.length; i++) {
    const offset = req.spans[i * 2]!;
    const length = req.spans[i * 2 + 1]!;
    if (offset + length > raw.length) {
      badSpans.push(i);
      continue;
    }
    const got = blobId(key, raw.subarray(offset, offset + length));
    if (!got.equals(ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES))) badSpans.push(i);
  }
  return req.checkOnly ? { badSpans } : { raw, badSpans };
}

