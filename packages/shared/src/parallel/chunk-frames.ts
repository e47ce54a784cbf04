/**
 * Worker-side frame building: the archive hands a whole source block and the numbers of its new
 * chunks to one task, which packs them into frames, compresses and seals each one straight into
 * `out`, shared memory the main thread copies them from. One task per block instead of one per
 * frame keeps thread hand-off costs (~50-100 µs a message) far below the work done; writing into
 * shared memory instead of moving a buffer per frame keeps the main thread's garbage collector
 * out of the data path.
 */
import type { KeyObject } from 'node:crypto';
import type { CompressionId } from '../format/codec-ids.js';
import { ID_BYTES } from '../format/ids.js';
import { SEAL_OVERHEAD } from '../format/sealing.js';
import { encodeFrameInto } from '../format/frame-codec.js';

export interface BuiltFrame {
  /** Where the stored frame starts in `out`; frames follow each other without gaps. */
  offset: number;
  storedLength: number;
  compression: CompressionId;
  rawLength: number;
  /** The frame's blob ids, 32 bytes each, in plaintext order. */
  ids: Uint8Array;
  lengths: Uint32Array;
}

/**
 * Room `out` needs for the frames of `chunks` new chunks of `bytes` plaintext: each frame holds
 * at least one chunk and takes at most its plaintext plus a seal.
 */
export function framesOutBytes(bytes: number, chunks: number): number {
  return bytes + chunks * SEAL_OVERHEAD;
}

/** Per thread: each frame's plaintext is gathered here before it is encoded into `out`. */
let gather = new Uint8Array(0);

/** Packs `chunks` (indices into `data`) of at most `frameSize` plaintext per frame into `out`. */
export function buildFrames(
  data: Uint8Array,
  chunkSize: number,
  chunks: Uint32Array,
  blockIds: Uint8Array,
  level: number,
  enc: KeyObject | undefined,
  frameSize: number,
  out: Uint8Array,
): BuiltFrame[] {
  const frames: BuiltFrame[] = [];
  let outAt = 0;
  let i = 0;
  while (i < chunks.length) {
    const start = i;
    const first = chunks[start]!;
    let bytes = 0;
    // New chunks that follow each other in the block (most of a first archive) are compressed
    // where they lie; others are gathered into one plaintext first.
    let adjacent = true;
    while (i < chunks.length) {
      const c = chunks[i]!;
      const len = Math.min(chunkSize, data.byteLength - c * chunkSize);
      if (bytes > 0 && bytes + len > frameSize) break;
      adjacent &&= c === first + (i - start);
      bytes += len;
      i++;
    }
    if (!adjacent && gather.byteLength < bytes) gather = new Uint8Array(bytes);
    const raw = adjacent ? data.subarray(first * chunkSize, first * chunkSize + bytes) : gather.subarray(0, bytes);
    const ids = new Uint8Array((i - start) * ID_BYTES);
    const lengths = new Uint32Array(i - start);
    let at = 0;
    for (let k = start; k < i; k++) {
      const c = chunks[k]!;
      const len = Math.min(chunkSize, data.byteLength - c * chunkSize);
      if (!adjacent) raw.set(data.subarray(c * chunkSize, c * chunkSize + len), at);
      ids.set(blockIds.subarray(c * ID_BYTES, (c + 1) * ID_BYTES), (k - start) * ID_BYTES);
      lengths[k - start] = len;
      at += len;
    }
    if (outAt + framesOutBytes(bytes, 1) > out.byteLength) {
      throw new RangeError(`frame output needs more than the ${out.byteLength} bytes given`);
    }
    const e = encodeFrameInto(raw, level, enc, out, outAt);
    frames.push({ offset: outAt, storedLength: e.storedLength, compression: e.compression, rawLength: bytes, ids, lengths });
    outAt += e.storedLength;
  }
  return frames;
}
