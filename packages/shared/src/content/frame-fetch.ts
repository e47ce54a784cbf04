/**
 * Fetches stored frames from packs with as few requests as sensible: frames of one pack that lie
 * close together are read in one ranged GET (object stores charge per request and answer each
 * in tens of milliseconds), then split.
 */
import type { BlobStore } from '../ports/blob-store.js';
import { CorruptDataError, InvalidInputError, NotFoundError } from '../errors.js';
import { packKey } from '../format/layout.js';
import type { FrameLocation } from './blob-index.js';
import { mapLimit } from './map-limit.js';

/** Merge two frames' reads when the bytes between them are at most this (cheaper than a GET). */
const MAX_GAP = 256 * 1024;
/** Upper bound of one merged read, to keep memory per request bounded. */
const MAX_READ = 16 * 1024 * 1024;
/** Ranged GETs in flight: enough to hide S3 latency, few enough for a folder store's disk. */
const READS_IN_FLIGHT = 8;

export interface FrameRef {
  frameNo: number;
  frame: FrameLocation;
}

export interface Run {
  packId: string;
  start: number;
  end: number;
  frames: number[];
}

export interface FetchedRuns {
  runs: Uint8Array[];
  /** For each input frame: which run holds it, and where in that run it starts. */
  placements: { run: number; offset: number }[];
}

/** The merged reads that fetch `frames` (also how locality maintenance predicts a restore's reads). */
export function planRuns(frames: readonly FrameRef[]): Run[] {
  const order = frames
    .map((_, i) => i)
    .sort((a, b) => {
      const fa = frames[a]!.frame;
      const fb = frames[b]!.frame;
      return fa.packId < fb.packId ? -1 : fa.packId > fb.packId ? 1 : fa.offset - fb.offset;
    });
  const runs: Run[] = [];
  for (const i of order) {
    const f = frames[i]!.frame;
    const last = runs.at(-1);
    const end = f.offset + f.storedLength;
    if (last && last.packId === f.packId && f.offset - last.end <= MAX_GAP && end - last.start <= MAX_READ) {
      last.end = Math.max(last.end, end);
      last.frames.push(i);
    } else {
      runs.push({ packId: f.packId, start: f.offset, end, frames: [i] });
    }
  }
  return runs;
}

/**
 * Reads every frame's stored bytes as a few merged ranged reads: into `memory`, one run after
 * another, where the store can (getInto) and the runs fit; the rest into memory of their own.
 */
export async function fetchRuns(store: BlobStore, frames: readonly FrameRef[], memory?: Uint8Array): Promise<FetchedRuns> {
  const runs = planRuns(frames);
  const placements: FetchedRuns['placements'] = new Array(frames.length);
  let used = 0;
  const reads = runs.map((run, r) => {
    for (const i of run.frames) placements[i] = { run: r, offset: frames[i]!.frame.offset - run.start };
    const range = { offset: run.start, length: run.end - run.start };
    const fits = memory !== undefined && store.getInto !== undefined && used + range.length <= memory.byteLength;
    const into = fits ? memory.subarray(used, (used += range.length)) : undefined;
    return { key: packKey(run.packId), range, into };
  });
  const bytes = await mapLimit(reads, READS_IN_FLIGHT, ({ key, range, into }) =>
    (into ? store.getInto!(key, range, into) : store.get(key, range)).catch((err: unknown) => {
      throw asPackDamage(err, key);
    }),
  );
  return { runs: bytes, placements };
}

/**
 * A pack the index describes that is gone, or shorter than the frames it lists, is damage to
 * the repository, not a missing object or a bad range asked by a caller: reported as corrupt
 * data naming the pack, so the CLI exits with the damage code.
 */
function asPackDamage(err: unknown, key: string): unknown {
  if (err instanceof NotFoundError)
    return new CorruptDataError(`pack ${key} is missing: the index names it but the store does not have it (missing-pack)`, { object: key }, { cause: err });
  if (err instanceof InvalidInputError && err.field === 'range')
    return new CorruptDataError(`pack ${key} is shorter than its index entry says (truncated-pack): ${err.message}`, { object: key }, { cause: err });
  return err;
}

/** Reads every frame's stored bytes; calls `onFrame` with a copy that owns its memory. */
export async function fetchFrames(store: BlobStore, frames: FrameRef[], onFrame: (ref: FrameRef, stored: Uint8Array) => Promise<void>): Promise<void> {
  const { runs, placements } = await fetchRuns(store, frames);
  await Promise.all(
    frames.map((ref, i) => {
      const { run, offset } = placements[i]!;
      return onFrame(ref, new Uint8Array(runs[run]!.subarray(offset, offset + ref.frame.storedLength)));
    }),
  );
}
