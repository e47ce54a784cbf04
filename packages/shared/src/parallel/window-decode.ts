/**
 * Worker-side restore of one window of a volume: decode the frames the window needs (fetched
 * as a few merged reads), check every chunk against its id, and lay the chunks out in the
 * window's output buffer. The main thread only fetches and writes.
 */
import { type KeyObject } from 'node:crypto';
import { Compression, isCompressionId } from '../format/codec-ids.js';
import { mismatchedSpans } from '../format/chunk-hasher.js';
import { decodeFrame, decodeFrameInto } from '../format/frame-codec.js';
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

/**
 * Plaintext of a frame that cannot land in the window (its chunks are scattered, repeated or
 * partly overwritten since: the usual case in a snapshot after a long incremental history),
 * reused frame after frame on this thread. A fresh buffer per frame cost a streaming
 * decompression and the first touch of new pages (page faults, dear on virtual machines).
 */
let aside = Buffer.alloc(0);

export function decodeWindow(req: WindowRequest, enc: KeyObject | undefined, idKey: Uint8Array): WindowResult {
  const frameCount = req.frames.length / FRAME_FIELDS;
  const n = req.chunks.length / CHUNK_FIELDS;
  const out = req.out;
  const landing = directLandings(req, frameCount);
  // The window's chunks grouped by frame (in window order within each): a frame decoded aside is
  // copied out whole before the next one reuses the memory.
  const first = new Uint32Array(frameCount + 1);
  for (let i = 0; i < n; i++) {
    const f = req.chunks[i * CHUNK_FIELDS]!;
    if (f >= 0) first[f + 1]!++;
  }
  for (let f = 0; f < frameCount; f++) first[f + 1]! += first[f]!;
  const byFrame = new Uint32Array(first[frameCount]!);
  const fill = first.slice(0, frameCount);
  for (let i = 0; i < n; i++) {
    const f = req.chunks[i * CHUNK_FIELDS]!;
    if (f >= 0) byFrame[fill[f]!++] = i;
  }
  // Frames are numbered in the order the window first needs them, so the first frame that fails
  // names the earliest chunk that could not be decoded.
  for (let f = 0; f < frameCount; f++) {
    if (first[f] === first[f + 1]) continue;
    const o = f * FRAME_FIELDS;
    const run = req.runs[req.frames[o]!]!;
    const at = req.frames[o + 1]!;
    // The runs are this window's alone and dropped after it: they may be overwritten.
    const stored = run.subarray(at, at + req.frames[o + 2]!);
    const rawLength = req.frames[o + 3]!;
    const compression = req.frames[o + 4]!;
    let plain: Uint8Array;
    try {
      if (!isCompressionId(compression)) throw new CorruptDataError(`unknown compression id ${compression}`);
      if (landing[f]! >= 0) {
        decodeFrameInto(stored, compression, enc, out.subarray(landing[f], landing[f]! + rawLength), 'frame');
        continue;
      }
      if (compression === Compression.None) plain = decodeFrame(stored, compression, rawLength, enc, 'frame', true);
      else {
        if (aside.byteLength < rawLength) aside = Buffer.allocUnsafe(rawLength);
        plain = aside.subarray(0, rawLength);
        decodeFrameInto(stored, compression, enc, plain, 'frame');
      }
    } catch (err) {
      if (!(err instanceof CorruptDataError)) throw err;
      return { failure: { chunk: byFrame[first[f]!]!, frame: f, message: err.message } };
    }
    for (let k = first[f]!; k < first[f + 1]!; k++) {
      const i = byFrame[k]!;
      const offset = req.chunks[i * CHUNK_FIELDS + 1]!;
      const length = req.chunks[i * CHUNK_FIELDS + 2]!;
      if (offset + length > plain.byteLength) return { failure: { chunk: i, frame: f, message: 'content does not match its id' } };
      out.set(plain.subarray(offset, offset + length), i * req.chunkSize);
    }
  }
  // Check every chunk where it landed, in one hashing call.
  const placed: number[] = [];
  const spans = new Uint32Array(n * 2);
  for (let i = 0; i < n; i++) {
    if (req.chunks[i * CHUNK_FIELDS]! < 0) continue;
    spans[placed.length * 2] = i * req.chunkSize;
    spans[placed.length * 2 + 1] = req.chunks[i * CHUNK_FIELDS + 2]!;
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
