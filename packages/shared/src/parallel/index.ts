/**
 * @snapfleet/shared/codec: the codec tasks and the CodecPool port, for the thread pool that runs
 * the tasks (@snapfleet/providers, codec/) and its worker threads, which load this entry: it
 * pulls in the codecs and nothing else of the engine.
 */
export {
  chunkFrames,
  decode,
  encode,
  hashChunks,
  window,
  type ChunkFramesRequest,
  type DecodeRequest,
  type DecodeResult,
  type EncodeRequest,
  type EncodeResult,
  type HashRequest,
  type HashResult,
  type WindowTask,
} from './codec-tasks.js';
export { createInlineCodecPool, type ChunkFramesJob, type CodecPool, type CodecThreads, type DecodeJob } from './codec-pool.js';
export { framesOutBytes, type BuiltFrame } from './chunk-frames.js';
export { CHUNK_FIELDS, FRAME_FIELDS, type WindowRequest, type WindowResult } from './window-decode.js';
export { SharedBufferPool } from './shared-buffer-pool.js';
export { owned, owns } from './owned.js';
export { generateMasterKeys, type MasterKeys } from '../format/master-key-material.js';
