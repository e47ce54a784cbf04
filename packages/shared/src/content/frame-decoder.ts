/**
 * Decodes frames in the codec pool and checks the blobs a caller needs from each against their
 * ids. Every byte a restore writes or a verify accepts passes through here.
 */
import type { BlobStore } from '../ports/blob-store.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { CorruptDataError } from '../errors.js';
import { ID_BYTES } from '../format/ids.js';
import { fetchFrames, type FrameRef } from './frame-fetch.js';

export interface Wanted {
  ref: FrameRef;
  /** Offset and length in the frame's plaintext of each blob to check. */
  spans: number[];
  /** Expected ids, one per span. */
  ids: Uint8Array[];
}

export interface FrameFailure {
  ref: FrameRef;
  /** Why the frame as a whole could not be decoded, or undefined when only some blobs were bad. */
  error?: string;
  /** Indices into `spans`/`ids` whose plaintext does not match its id. */
  badSpans: number[];
}

export interface DecodedFrames {
  raw: Map<number, Uint8Array>;
  failures: FrameFailure[];
}

export async function decodeFrames(store: BlobStore, pool: CodecPool, wanted: Map<number, Wanted>): Promise<DecodedFrames> {
  const raw = new Map<number, Uint8Array>();
  const failures: FrameFailure[] = [];
  const refs = [...wanted.values()].map((w) => w.ref);
  await fetchFrames(store, refs, async (ref, stored) => {
    const w = wanted.get(ref.frameNo)!;
    const ids = Buffer.allocUnsafeSlow(w.ids.length * ID_BYTES);
    w.ids.forEach((id, i) => ids.set(id, i * ID_BYTES));
    const result = await pool.decodeFrame({
      stored,
      compression: ref.frame.compression,
      rawLength: ref.frame.rawLength,
      spans: Uint32Array.from(w.spans),
      ids,
    });
    if (result.error || result.badSpans.length > 0) failures.push({ ref, error: result.error, badSpans: result.badSpans });
    if (result.raw) raw.set(ref.frameNo, result.raw);
  });
  return { raw, failures };
}

/** A failure as an error naming the pack and frame; callers add the snapshot and chunk. */
export function frameError(f: FrameFailure, site: CorruptDataError['site']): CorruptDataError {
  const where = `pack ${f.ref.frame.packId} frame at offset ${f.ref.frame.offset}`;
  const why = f.error ?? `${f.badSpans.length} blob(s) do not match their ids`;
  return new CorruptDataError(`corrupt data in ${where}: ${why}`, { object: `data/${f.ref.frame.packId.slice(0, 2)}/${f.ref.frame.packId}`, ...site });
}
