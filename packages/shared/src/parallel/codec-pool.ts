/**
 * CodecPool: hashing, compression, encryption and their inverses, off the main thread.
 * zstd-napi and node:crypto calls are synchronous, so without threads they serialise on the event
 * loop; with one thread per core archive and restore use the whole machine. The pool is a port:
 * the threads (piscina) are started by @snapfleet/providers (codec/thread-codec-pool.ts) and
 * passed in by the composition root; the engine runs the same tasks inline in tests.
 */
import type { MasterKeys } from '../format/master-key-material.js';
import {
  chunkFrames,
  decode,
  encode,
  hashChunks,
  window,
  type ChunkFramesRequest,
  type DecodeRequest,
  type DecodeResult,
  type EncodeResult,
  type HashResult,
} from './codec-tasks.js';
import type { BuiltFrame } from './chunk-frames.js';
import type { WindowRequest, WindowResult } from './window-decode.js';

/** The pool adds the keys: callers never handle key bytes. */
export type ChunkFramesJob = Omit<ChunkFramesRequest, 'encKey'>;
export type DecodeJob = Omit<DecodeRequest, 'encKey' | 'idKey'>;

export interface CodecPool {
  /**
   * Splits `data` into chunks and ids them, into `ids` when given (32 bytes a chunk). Pass shared
   * memory (SharedBufferPool) for both to avoid copies and the threads' garbage: a block's ids
   * allocated in a codec thread linger there until its rare garbage collections.
   */
  hashChunks(data: Uint8Array, chunkSize: number, ids?: Uint8Array): Promise<HashResult>;
  /** Compresses and seals one frame (manifest nodes); `raw` is moved to the pool. */
  encodeFrame(raw: Uint8Array, level: number): Promise<EncodeResult>;
  /**
   * Builds the frames of a block's new chunks into `job.out` (shared memory, see
   * framesOutBytes); `data` as for hashChunks.
   */
  chunkFrames(job: ChunkFramesJob): Promise<BuiltFrame[]>;
  decodeFrame(job: DecodeJob): Promise<DecodeResult>;
  /**
   * Decodes, checks and lays out one restore window into `req.out`. The runs are the window's to
   * overwrite: shared memory is decoded in place, other runs are moved.
   */
  decodeWindow(req: WindowRequest): Promise<WindowResult>;
  close(): Promise<void>;
}

/** Runs everything on the calling thread: for tests and for one-off small objects. */
export function createInlineCodecPool(keys: MasterKeys): CodecPool {
  return {
    hashChunks: async (data, chunkSize, ids) => hashChunks({ data, chunkSize, idKey: keys.idRaw, ...(ids ? { ids } : {}) }),
    encodeFrame: async (raw, level) => encode({ raw, level, encKey: keys.encRaw }),
    chunkFrames: async (job) => chunkFrames({ ...job, encKey: keys.encRaw }),
    decodeFrame: async (job) => decode({ ...job, encKey: keys.encRaw, idKey: keys.idRaw }),
    decodeWindow: async (req) => window({ ...req, encKey: keys.encRaw, idKey: keys.idRaw }),
    close: async () => {},
  };
}

/**
 * Codec threads started before the repository's keys are known: starting a thread (an isolate,
 * zstd-napi, the task module) takes tens of milliseconds of CPU, which a command can spend while
 * the repository opens (scrypt runs on libuv's pool, and the second core is idle then).
 */
export interface CodecThreads {
  /** The pool over these threads for one repository's keys; closing it stops the threads. */
  withKeys(keys: MasterKeys): CodecPool;
  /**
   * Starts every thread now instead of with the first task, so their start-up overlaps what the
   * caller does before its codec work (opening the repository, reading pack headers).
   */
  warm(): void;
  /** Stops the threads; one still starting is waited for first. */
  close(): Promise<void>;
}
