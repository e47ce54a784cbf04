/**
 * Worker-thread entry for the codec pool (thread-codec-pool.ts, piscina): runs the engine's codec
 * tasks. Results move their buffers back to the main thread instead of copying them: a restore
 * passes ~1 GiB through here.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import {
  chunkFrames,
  decode,
  encode,
  hashChunks,
  owned,
  window,
  type ChunkFramesRequest,
  type DecodeRequest,
  type EncodeRequest,
  type HashRequest,
  type WindowTask,
} from '@snapfleet/shared/codec';

/** Returns `value` with the memory of `views` moved, not copied (piscina's Transferable protocol). */
function moveWith(value: object, views: Uint8Array[]): unknown {
  const buffers = views.map((v) => v.buffer);
  return move({
    get [transferableSymbol]() {
      return buffers;
    },
    get [valueSymbol]() {
      return value;
    },
  } as never);
}

/** The warm-up task (CodecThreads.warm): the thread is ready once its module has loaded. */
export function ready(): undefined {
  return undefined;
}

export function hash(req: HashRequest): unknown {
  // Ids written into the caller's shared memory need not travel back.
  if (req.ids) {
    hashChunks(req);
    return undefined;
  }
  const ids = owned(hashChunks(req));
  return moveWith(ids, [ids]);
}

export function encodeTask(req: EncodeRequest): unknown {
  const out = encode(req);
  const stored = owned(out.stored);
  return moveWith({ ...out, stored }, [stored]);
}

export function chunkFramesTask(req: ChunkFramesRequest): unknown {
  // The frames are in req.out, shared memory; only their small descriptions travel back.
  return chunkFrames(req);
}

export function decodeTask(req: DecodeRequest): unknown {
  const out = decode(req);
  if (!out.raw) return out;
  const raw = owned(out.raw);
  return moveWith({ ...out, raw }, [raw]);
}

export function windowTask(req: WindowTask): unknown {
  // The window is laid out in req.out, shared memory the main thread writes from.
  return window(req);
}
