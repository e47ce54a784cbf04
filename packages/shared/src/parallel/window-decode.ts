/**
 * Worker-side restore of one window of a volume: decode the frames the window needs (fetched
 * as a few merged reads), check every chunk against its id, and lay the chunks out in the
 * window's output buffer. The main thread only fetches and writes.
 */
import { type KeyObject } from 'node:crypto';
import { isCompressionId } from '../format/codec-ids.js';
import { mismatchedSpans } from '../format/chunk-hasher.js';
import { decodeFrame, decodeFrameInto } from '../content/frame-codec.js';
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
  const n = req.chunks.length / CHUNK_FIELDS;
  const out = req.out;
  const landing = directLandings(req, frameCount);
  /** Per frame: its plaintext, true once it was decoded straight into `out`, or why it failed. */
  const plain: (Uint8Array | true | string)[] = new Array(frameCount);
  const plaintext = (f: number): Uint8Array | true | string => {
    let p = plain[f];
    if (p === undefined) {
      const o = f * FRAME_FIELDS;
      const run = req.runs[req.frames[o]!]!;
      const at = req.frames[o + 1]!;
      const stored = run.subarray(at, at + req.frames[o + 2]!);
      const rawLength = req.frames[o + 3]!;
      const compression = req.frames[o + 4]!;
      try {
        if (!isCompressionId(compression)) throw new CorruptDataError(`unknown compression id ${compression}`);
        // The runs are this window's alone and dropped after it: they may be overwritten.
        if (landing[f]! >= 0) {
          decodeFrameInto(stored, compression, enc, out.subarray(landing[f], landing[f]! + rawLength), 'frame');
          p = true;
        } else {
          p = decodeFrame(stored, compression, rawLength, enc, 'frame', true);
        }
      } catch (err) {
        if (!(err instanceof CorruptDataError)) throw err;
        p = err.message;
      }
      plain[f] = p;
    }
    return p;
  };
  // Lay the chunks out first, then check them all where they landed in one hashing call.
  const placed: number[] = [];
  const spans = new Uint32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const f = req.chunks[i * CHUNK_FIELDS]!;
    if (f < 0) continue;
    const p = plaintext(f);
    if (typeof p === 'string') return { failure: { chunk: i, frame: f, message: p } };
    const length = req.chunks[i * CHUNK_FIELDS + 2]!;
    if (p !== true) {
      const offset = req.chunks[i * CHUNK_FIELDS + 1]!;
      const chunk = p.subarray(offset, offset + length);
      if (chunk.byteLength !== length) return { failure: { chunk: i, frame: f, message: 'content does not match its id' } };
      out.set(chunk, i * req.chunkSize);
    }
    spans[placed.length * 2] = i * req.chunkSize;
    spans[placed.length * 2 + 1] = length;
    placed.push(i);
  }
  const [bad] = mismatchedSpans(idKey, out, spans.subarray(0, placed.length * 2), req.ids, placed);
  if (bad === undefined) return {};
  const i = placed[bad]!;
  return { failure: { chunk: i, frame: req.chunks[i * CHUNK_FIELDS]!, message: 'content does not match its id' } };
}

/**
 * Per frame, where in `out` its plaintext can be decoded directly, or -1. That is so when the
 * window's chunks from the frame are its whole plaintext, in order, at consecutive chunk
 * positions: the usual case, as an archive frames consecutive new chunks of a block. Frames
 * shared by scattered positions (deduplicated data) are decoded aside and copied chunk by chunk.
 */
export function directLandings(req: WindowRequest, frameCount: number): Float64Array {
  const landing = new Float64Array(frameCount).fill(-1);
  /** The next plaintext offset each frame must continue with, or -2 once it cannot land. */
  const next = new Float64Array(frameCount);
  const lastChunk = new Float64Array(frameCount).fill(-1);
  const n = req.chunks.length / CHUNK_FIELDS;
  for (let i = 0; i < n; i++) {
    const f = req.chunks[i * CHUNK_FIELDS]!;
    if (f < 0 || next[f] === -2) continue;
    const offset = req.chunks[i * CHUNK_FIELDS + 1]!;
    const length = req.chunks[i * CHUNK_FIELDS + 2]!;
    const continues = lastChunk[f] === -1 ? offset === 0 : lastChunk[f] === i - 1 && offset === next[f];
    // Only a frame's last chunk may be short, and chunks sit chunkSize apart in the window.
    if (!continues || (lastChunk[f]! >= 0 && next[f]! % req.chunkSize !== 0)) {
      next[f] = -2;
      continue;
    }
    if (lastChunk[f] === -1) landing[f] = i * req.chunkSize;
    lastChunk[f] = i;
    next[f] = offset + length;
  }
  for (let f = 0; f < frameCount; f++) {
    if (next[f] === -2 || next[f] !== req.frames[f * FRAME_FIELDS + 3]) landing[f] = -1;
  }
  return landing;
}
