/**
 * How a volume changes and how well it stores, measured from the repository's own snapshots of
 * it (each snapshot records what its archive read and stored, format/snapshot.ts `stats`). The
 * newest few say how the volume behaves now; whatever they cannot tell (no incremental archive
 * yet, no full one) is left to the price table's assumptions.
 */
import { DAY_MS } from './history.js';

export interface VolumeRates {
  /** Share of the volume's size written anew per day. */
  dailyChangeRate: number;
  /** Bytes stored per byte read (compression and deduplication). */
  storedRatio: number;
  /** Share of the volume's blocks that hold data. */
  writtenShare: number;
}

/** What the measurement needs of one snapshot (plain data from its object). */
export interface ArchivedSnapshotStats {
  /** When the volume was captured, epoch ms. */
  time: number;
  /** When the parent it was archived against was captured, epoch ms; absent without a parent (or a known one). */
  parentTime?: number | undefined;
  sizeBytes: number;
  chunkSize: number;
  stats: { readBytes: number; storedBytes: number; holeChunks: number; changedBlocksOnly: boolean };
}

/** Snapshots of a volume looked at, newest first: enough to smooth one busy day, recent enough to be today's volume. */
export const RECENT_SNAPSHOTS = 10;

/** The rates the snapshots show; a rate they cannot show is absent. */
export function measureVolumeRates(snapshots: readonly ArchivedSnapshotStats[]): Partial<VolumeRates> {
  const recent = [...snapshots].sort((a, b) => b.time - a.time).slice(0, RECENT_SNAPSHOTS);
  const out: Partial<VolumeRates> = {};
  // Incremental archives read exactly the blocks changed since their parent.
  let changed = 0;
  let exposure = 0;
  for (const s of recent) {
    if (!s.stats.changedBlocksOnly || s.parentTime === undefined || s.time <= s.parentTime || s.sizeBytes === 0) continue;
    changed += s.stats.readBytes;
    exposure += s.sizeBytes * ((s.time - s.parentTime) / DAY_MS);
  }
  if (exposure > 0) out.dailyChangeRate = changed / exposure;
  const read = recent.reduce((n, s) => n + s.stats.readBytes, 0);
  if (read > 0) out.storedRatio = recent.reduce((n, s) => n + s.stats.storedBytes, 0) / read;
  // A full archive saw every block: its holes are the blocks without data.
  const full = recent.find((s) => !s.stats.changedBlocksOnly && s.sizeBytes > 0);
  if (full) out.writtenShare = Math.min(1, Math.max(0, 1 - (full.stats.holeChunks * full.chunkSize) / full.sizeBytes));
  return out;
}

/** Bytes the repository stored for these snapshots when they were archived (their stats' sum). */
export function storedBytesOf(snapshots: readonly ArchivedSnapshotStats[]): number {
  return snapshots.reduce((n, s) => n + s.stats.storedBytes, 0);
}
