/**
 * The CPU-heavy steps of archive and restore as plain functions over bytes, so that they run the
 * same in a worker thread (codec-worker.ts) and inline (tests, tiny jobs).
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { CompressionId } from '../format/codec-ids.js';
import { ID_BYTES } from '../format/ids.js';
import { chunkHasher, mismatchedSpans } from '../format/chunk-hasher.js';
import { decodeFrame, encodeFrame, type EncodedFrame } from '../format/frame-codec.js';
import { CorruptDataError } from '../errors.js';
import { buildFrames, type BuiltFrame } from './chunk-frames.js';
import { decodeWindow, type WindowRequest, type WindowResult } from './window-decode.js';

export interface HashRequest {
  data: Uint8Array;
  chunkSize: number;
  idKey: Uint8Array;
  /** Where the ids go (shared memory spares the thread an allocation); a new array if absent. */
  ids?: Uint8Array;
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

export function hashChunks(req: HashRequest): HashResult {
  const ids = req.ids ?? new Uint8Array(Math.ceil(req.data.length / req.chunkSize) * ID_BYTES);
  chunkHasher.chunks(req.idKey, req.data, req.chunkSize, ids, true);
  return ids;
}

export function encode(req: EncodeRequest): EncodeResult {
  return encodeFrame(req.raw, req.level, req.encKey && keyObject(req.encKey));
}

export function chunkFrames(req: ChunkFramesRequest): BuiltFrame[] {
  return buildFrames(req.data, req.chunkSize, req.chunks, req.blockIds, req.level, req.encKey && keyObject(req.encKey), req.frameSize, req.out);
}

export function window(req: WindowTask): WindowResult {
  return decodeWindow(req, req.encKey && keyObject(req.encKey), req.idKey);
}

export function decode(req: DecodeRequest): DecodeResult {
  let raw: Buffer;
  try {
    raw = decodeFrame(req.stored, req.compression, req.rawLength, req.encKey && keyObject(req.encKey), 'frame');
  } catch (err) {
    if (err instanceof CorruptDataError) return { error: err.message, badSpans: [] };
    throw err;
  }
  // Spans that reach past the plaintext are bad as they stand; the rest are hashed in one call.
  const badSpans: number[] = [];
  const inside: number[] = [];
  const count = req.spans.length / 2;
  for (let i = 0; i < count; i++) {
    if (req.spans[i * 2]! + req.spans[i * 2 + 1]! > raw.length) badSpans.push(i);
    else inside.push(i);
  }
  const spans = inside.length === count ? req.spans : Uint32Array.from(inside.flatMap((i) => [req.spans[i * 2]!, req.spans[i * 2 + 1]!]));
  for (const k of mismatchedSpans(req.idKey, raw, spans, req.ids, inside)) badSpans.push(inside[k]!);
  badSpans.sort((a, b) => a - b);
  return req.checkOnly ? { badSpans } : { raw, badSpans };
}
