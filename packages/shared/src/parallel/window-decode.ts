/**
 * Worker-side restore of one window of a volume: decode the frames the window needs (fetched
 * as a few merged reads), check every chunk against its id, and lay the chunks out in the
 * window's output buffer. The main thread only fetches and writes.
 */
import { type KeyObject } from 'node:crypto';
import { isCompressionId } from '../format/codec-ids.js';
import { blobId, ID_BYTES } from '../format/ids.js';
import { decodeFrame } from '../content/frame-codec.js';
import { CorruptDataError } from '../errors.js';

/** Per frame, 5 numbers: run index, offset in run, stored length, raw length, compression id. */
export const FRAME_FIELDS = 5;
/** Per chunk, 3 numbers: frame index (-1 for a hole), offset in the frame plaintext, length. */
export const CHUNK_FIELDS = 3;

export interface WindowRequest {
  runs: Uint8Array[];
  frames: Float64Array;
  chunks: Float64Array;
  ids: Uint8Array;
  chunkSize: number;
  /** Where the window is laid out (shared memory); holes are left untouched. */
  out: Uint8Array;
}

export interface WindowResult {
  /** The first failure: the chunk (index in the window) and why. */
  failure?: { chunk: number; frame: number; message: string };
}

export function decodeWindow(req: WindowRequest, enc: KeyObject | undefined, idKey: KeyObject): WindowResult {
  const frameCount = req.frames.length / FRAME_FIELDS;
  const plain: (Uint8Array | string)[] = new Array(frameCount);
  const plaintext = (f: number): Uint8Array | string => {
    let p = plain[f];
    if (p === undefined) {
      const o = f * FRAME_FIELDS;
      const run = req.runs[req.frames[o]!]!;
      const at = req.frames[o + 1]!;
      const compression = req.frames[o + 4]!;
      try {
        if (!isCompressionId(compression)) throw new CorruptDataError(`unknown compression id ${compression}`);
        p = decodeFrame(run.subarray(at, at + req.frames[o + 2]!), compression, req.frames[o + 3]!, enc, 'frame');
      } catch (err) {
        if (!(err instanceof CorruptDataError)) throw err;
        p = err.message;
      }
      plain[f] = p;
    }
    return p;
  };
  const out = req.out;
  const n = req.chunks.length / CHUNK_FIELDS;
  for (let i = 0; i < n; i++) {
    const f = req.chunks[i * CHUNK_FIELDS]!;
    if (f < 0) continue;
    const p = plaintext(f);
    if (typeof p === 'string') return { failure: { chunk: i, frame: f, message: p } };
    const offset = req.chunks[i * CHUNK_FIELDS + 1]!;
    const length = req.chunks[i * CHUNK_FIELDS + 2]!;
    const chunk = p.subarray(offset, offset + length);
    const expected = req.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES);
    if (chunk.byteLength !== length || !blobId(idKey, chunk).equals(expected)) {
      return { failure: { chunk: i, frame: f, message: 'content does not match its id' } };
    }
    out.set(chunk, i * req.chunkSize);
  }
  return {};
}
