/**
 * CodecPool: hashing, compression, encryption and their inverses, off the main thread.
 * zstd-napi and node:crypto calls are synchronous, so without threads they serialise on the event
 * loop; with one thread per core archive and restore use the whole machine.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { MasterKeys } from '../format/master-keys.js';
import { owns } from './owned.js';
import { chunkFrames, decode, encode, hashChunks, window, type ChunkFramesRequest, type DecodeRequest, type DecodeResult, type EncodeResult, type HashResult } from './codec-tasks.js';
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
 * The worker script is the compiled codec-worker.js beside this file. When this module runs from
 * TypeScript sources (vitest), the compiled copy in dist/ is used: worker threads cannot load .ts.
 */
function workerFilename(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return here.replace(/\/src\/parallel\/codec-pool\.ts$/, '/dist/parallel/codec-worker.js');
  return here.replace(/codec-pool\.js$/, 'codec-worker.js');
}

export function defaultThreadCount(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Codec threads started before the repository's keys are known: starting a thread (an isolate,
 * zstd-napi, the task module) takes tens of milliseconds of CPU, which a command can spend while
 * the repository opens (scrypt runs on libuv's pool, and the second core is idle then).
 */
export interface CodecThreads {
  /** The pool over these threads for one repository's keys; closing it stops the threads. */
  withKeys(keys: MasterKeys): CodecPool;
  close(): Promise<void>;
}

export function startCodecThreads(threads = defaultThreadCount()): CodecThreads {
  const pool = new Piscina({ filename: workerFilename(), minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  // Move the caller's buffer when it owns its memory; otherwise structured clone copies it.
  const buf = (u: Uint8Array): ArrayBuffer[] => (owns(u) ? [u.buffer as ArrayBuffer] : []);
  const close = () => pool.destroy();
  return {
    withKeys: (keys) => ({
      hashChunks: async (data, chunkSize, ids) => {
        const got = (await pool.run({ data, chunkSize, idKey: keys.idRaw, ...(ids ? { ids } : {}) }, { name: 'hash' })) as HashResult | undefined;
        return ids ?? got!;
      },
      encodeFrame: (raw, level) => pool.run({ raw, level, encKey: keys.encRaw }, { name: 'encodeTask', transferList: buf(raw) }),
      chunkFrames: (job) => pool.run({ ...job, encKey: keys.encRaw }, { name: 'chunkFramesTask' }),
      decodeFrame: (job) =>
        pool.run({ ...job, encKey: keys.encRaw, idKey: keys.idRaw }, { name: 'decodeTask', transferList: buf(job.stored) }),
      decodeWindow: (req) =>
        pool.run({ ...req, encKey: keys.encRaw, idKey: keys.idRaw }, { name: 'windowTask', transferList: req.runs.flatMap(buf) }),
      close,
    }),
    close,
  };
}

export function createThreadCodecPool(keys: MasterKeys, threads = defaultThreadCount()): CodecPool {
  return startCodecThreads(threads).withKeys(keys);
}
