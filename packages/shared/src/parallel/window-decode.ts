/**
 * Worker-side restore of one window of a volume: decode the frames the window needs (fetched
 * as a few merged reads), check every chunk against its id, and lay the chunks out in the
 * window's output buffer. The main thread only fetches and writes.
 */
import { type KeyObject } from 'node:crypto';
import { isCompressionId } from '../format/codec-ids.js';
import { ID_BYTES } from '../format/ids.js';
import { chunkHasher } from '../format/chunk-hasher.js';
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

export function decodeWindow(req: WindowRequest, enc: KeyObject | undefined, idKey: Uint8Array): WindowResult {
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
        // The runs were moved here and are dropped after this window: open them in place.
        p = decodeFrame(run.subarray(at, at + req.frames[o + 2]!), compression, req.frames[o + 3]!, enc, 'frame', true);
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
  // Lay the chunks out first, then check them all where they landed in one hashing call.
  const placed: number[] = [];
  const spans = new Uint32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const f = req.chunks[i * CHUNK_FIELDS]!;
    if (f < 0) continue;
    const p = plaintext(f);
    if (typeof p === 'string') return { failure: { chunk: i, frame: f, message: p } };
    const offset = req.chunks[i * CHUNK_FIELDS + 1]!;
    const length = req.chunks[i * CHUNK_FIELDS + 2]!;
    const chunk = p.subarray(offset, offset + length);
    if (chunk.byteLength !== length) return { failure: { chunk: i, frame: f, message: 'content does not match its id' } };
    out.set(chunk, i * req.chunkSize);
    spans[placed.length * 2] = i * req.chunkSize;
    spans[placed.length * 2 + 1] = length;
    placed.push(i);
  }
  const got = Buffer.allocUnsafe(placed.length * ID_BYTES);
  chunkHasher.spans(idKey, out, spans.subarray(0, placed.length * 2), got);
  const want = Buffer.from(req.ids.buffer, req.ids.byteOffset, req.ids.byteLength);
  for (let k = 0; k < placed.length; k++) {
    const i = placed[k]!;
    if (got.compare(want, i * ID_BYTES, (i + 1) * ID_BYTES, k * ID_BYTES, (k + 1) * ID_BYTES) !== 0) {
      return { failure: { chunk: i, frame: req.chunks[i * CHUNK_FIELDS]!, message: 'content does not match its id' } };
    }
  }
  return {};
}
