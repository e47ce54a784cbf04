/**
 * Worker-side frame building: the archive hands a whole source block and the numbers of its new
 * chunks to one task, which packs them into frames, compresses, seals and digests each frame.
 * One task per block instead of one per frame keeps thread hand-off costs (~50-100 µs a message)
 * far below the work done.
 */
import type { KeyObject } from 'node:crypto';
import type { CompressionId } from '../format/codec-ids.js';
import { ID_BYTES } from '../format/ids.js';
import { encodeFrame } from '../content/frame-codec.js';

export interface BuiltFrame {
  stored: Uint8Array;
  compression: CompressionId;
  rawLength: number;
  /** The frame's blob ids, 32 bytes each, in plaintext order. */
  ids: Uint8Array;
  lengths: Uint32Array;
}

/** Packs `chunks` (indices into `data`) of at most `frameSize` plaintext per frame. */
export function buildFrames(
  data: Uint8Array,
  chunkSize: number,
  chunks: Uint32Array,
  blockIds: Uint8Array,
  level: number,
  enc: KeyObject | undefined,
  frameSize: number,
): BuiltFrame[] {
  const frames: BuiltFrame[] = [];
  let i = 0;
  while (i < chunks.length) {
    const start = i;
    let bytes = 0;
    while (i < chunks.length) {
      const c = chunks[i]!;
      const len = Math.min(chunkSize, data.byteLength - c * chunkSize);
      if (bytes > 0 && bytes + len > frameSize) break;
      bytes += len;
      i++;
    }
    const raw = new Uint8Array(bytes);
    const ids = new Uint8Array((i - start) * ID_BYTES);
    const lengths = new Uint32Array(i - start);
    let at = 0;
    for (let k = start; k < i; k++) {
      const c = chunks[k]!;
      const len = Math.min(chunkSize, data.byteLength - c * chunkSize);
      raw.set(data.subarray(c * chunkSize, c * chunkSize + len), at);
      ids.set(blockIds.subarray(c * ID_BYTES, (c + 1) * ID_BYTES), (k - start) * ID_BYTES);
      lengths[k - start] = len;
      at += len;
    }
    const e = encodeFrame(raw, level, enc);
    frames.push({ stored: e.stored, compression: e.compression, rawLength: bytes, ids, lengths });
  }
  return frames;
}
