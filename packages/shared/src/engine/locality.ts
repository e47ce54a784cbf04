/**
 * Locality maintenance: keeps the newest snapshot of each volume fast to restore. Deduplication
 * scatters a volume's current state over every archive's packs as a daily history grows, and a
 * restore pays in reads and in frames decoded for a few live blocks. When the restore this
 * module predicts for a volume's newest snapshot (locality-assessment.ts) passes a threshold, the
 * snapshot's blobs outside its dense packs are copied into new packs in volume order
 * (relocation.ts), and a layout list tells readers where they are now.
 *
 * It runs in `maintenance` under the prune lease (docs/format.md, "Locality"): only prune
 * deletes packs, and it cannot run meanwhile, so every pack the assessment read stays.
 */
import type { SnapshotEntry } from '../format/snapshot.js';
import type { Clock } from '../ports/clock.js';
import type { ProcessIdentity } from '../ports/process-identity.js';
import { acquireExclusiveLease } from './leases.js';
import { InvalidInputError } from '../errors.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { assessLocality, type LocalityAssessment } from './locality-assessment.js';
import { relocateSnapshot } from './relocation.js';
import { loadSnapshotIndex } from './snapshot-index.js';
import type { Repository } from './repository.js';

/**
 * Relocate when a restore would decode this much more plaintext than it writes... A fresh full
 * decodes 1.0-1.3x (frames shared by two windows are decoded by each; blocks deduplicated
 * against other places of the volume), and a daily history passes 1.3x within about ten days.
 */
export const DEFAULT_MAX_DECODE_AMPLIFICATION = 1.35;
/**
 * ...or issue this many reads per GiB of data. A fresh full needs 250-1,700 (its packs read a
 * window at a time, plus the blocks the volume repeats: the fresh-layout margin below keeps a
 * volume full of repeats from relocating for nothing); a relocated 1 GiB volume about 500, and
 * each day of 3% changes adds one read per 8 MiB window, 128 per GiB. At 1,000 a daily volume
 * relocates every few days; at 2,200, every twelve or so, and a 1 GiB volume's restore had
 * slowed to 0.73x its fresh restore's speed by then (test/bench/RESULTS.md, history).
 */
export const DEFAULT_MAX_READS_PER_GIB = 1000;

export interface LocalityOptions {
  maxDecodeAmplification?: number;
  maxReadsPerGiB?: number;
  /** Only these volumes (default: every volume's newest snapshot). */
  volumes?: readonly string[];
  /** Assess and report; copy nothing. */
  dryRun?: boolean;
  /**
   * Relocate whatever lies outside dense packs, whatever the thresholds and the predicted gain
   * (before a disaster-recovery drill, say, or to test).
   */
  force?: boolean;
}

export interface VolumeLocality {
  volumeId: string;
  snapshotId: string;
  /** The restore predicted before relocation. */
  dataBytes: number;
  reads: number;
  readsPerGiB: number;
  decodeAmplification: number;
  /** Plaintext of blobs in packs the snapshot reads sparsely: what a relocation copies. */
  scatteredBytes: number;
  /** The restore predicted after a relocation: relocation happens only when this gains enough. */
  relocatedReads: number;
  relocatedDecodeAmplification: number;
  /** The restore predicted for the snapshot laid out afresh (every blob copied): the best a layout can do. */
  freshReads: number;
  freshDecodeAmplification: number;
  relocated: boolean;
  /** What the relocation wrote (zero when not relocated). */
  copiedBytes: number;
  packsWritten: number;
  storedBytes: number;
}

export interface LocalityReport {
  volumes: VolumeLocality[];
  /** Sums over the volumes: plaintext copied, and pack bytes written (the space it costs until prune drains old copies). */
  copiedBytes: number;
  storedBytes: number;
}

export function validateLocalityOptions(o: LocalityOptions): void {
  if (o.maxDecodeAmplification !== undefined && !(o.maxDecodeAmplification >= 1)) {
    throw new InvalidInputError(`maximum decode amplification ${o.maxDecodeAmplification} must be a number of at least 1`, 'maxDecodeAmplification');
  }
  if (o.maxReadsPerGiB !== undefined && !(o.maxReadsPerGiB > 0)) {
    throw new InvalidInputError(`maximum reads per GiB ${o.maxReadsPerGiB} must be a positive number`, 'maxReadsPerGiB');
  }
}

/**
 * A snapshot counts as scattered only beyond what its own layout afresh would cost by this much
 * (a third more reads, or 0.15 more decode amplification): a volume that repeats its blocks
 * reads and decodes more than one that does not, however its blobs are laid out, and copying it
 * again and again would change nothing but the bytes stored.
 */
const FRESH_READS_MARGIN = 1 / 3;
const FRESH_DECODE_MARGIN = 0.15;
/** ...and a relocation must gain at least this much: a quarter of the reads, or 0.1 of decode amplification. */
const MIN_READS_GAIN = 0.25;
const MIN_DECODE_GAIN = 0.1;

/** Whether a predicted restore is scattered enough to relocate, and relocating would help. */
export function needsRelocation(a: LocalityAssessment, o: LocalityOptions): boolean {
  const maxDecode = o.maxDecodeAmplification ?? DEFAULT_MAX_DECODE_AMPLIFICATION;
  const maxReads = o.maxReadsPerGiB ?? DEFAULT_MAX_READS_PER_GIB;
  if (a.scatteredBytes === 0) return false;
  if (o.force) return true;
  // A volume of a few windows needs a read each whatever the layout: reads per GiB say nothing there.
  const overReads = a.readsPerGiB > maxReads && a.reads > 2 * a.windows && a.reads > (1 + FRESH_READS_MARGIN) * a.fresh.reads;
  const overDecode = a.decodeAmplification > maxDecode && a.decodeAmplification > a.fresh.decodeAmplification + FRESH_DECODE_MARGIN;
  const gainsReads = a.relocated.reads <= (1 - MIN_READS_GAIN) * a.reads;
  const gainsDecode = a.relocated.decodeAmplification <= a.decodeAmplification - MIN_DECODE_GAIN;
  return (overReads && gainsReads) || (overDecode && gainsDecode);
}

/**
 * Locality maintenance on its own, under the prune lease it takes (RepositoryLockedError when a
 * prune or another maintenance holds it): what a fleet runs for one volume after its archive,
 * at a cost that follows that volume (no listing of packs or index objects).
 */
export async function maintainLocality(
  repo: Repository,
  pool: CodecPool,
  options: LocalityOptions & { clock: Clock; hostname?: string; identity?: ProcessIdentity },
): Promise<LocalityReport> {
  validateLocalityOptions(options);
  const lease = await acquireExclusiveLease(repo, options.clock, 'prune', {
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  try {
    return await improveLocalityUnderLease(repo, pool, options, () => lease.assertHeld());
  } finally {
    await lease.release();
  }
}

/** The caller holds the prune lease; `assertHeld` throws once it cannot be sure it still does. */
export async function improveLocalityUnderLease(repo: Repository, pool: CodecPool, options: LocalityOptions, assertHeld: () => void): Promise<LocalityReport> {
  validateLocalityOptions(options);
  const report: LocalityReport = { volumes: [], copiedBytes: 0, storedBytes: 0 };
  // Relocation reads the snapshot's packs: in an archive storage class that needs a retrieval.
  if (repo.archivedPacks) return report;
  const condemned = await repo.condemnedPacks();
  for (const entry of await newestOfEachVolume(repo, options.volumes)) {
    const scoped = await loadSnapshotIndex(repo, entry);
    try {
      const a = await assessLocality(repo, pool, entry, scoped, condemned);
      const v: VolumeLocality = {
        volumeId: a.volumeId,
        snapshotId: a.snapshotId,
        dataBytes: a.dataBytes,
        reads: a.reads,
        readsPerGiB: a.readsPerGiB,
        decodeAmplification: a.decodeAmplification,
        scatteredBytes: a.scatteredBytes,
        relocatedReads: a.relocated.reads,
        relocatedDecodeAmplification: a.relocated.decodeAmplification,
        freshReads: a.fresh.reads,
        freshDecodeAmplification: a.fresh.decodeAmplification,
        relocated: false,
        copiedBytes: 0,
        packsWritten: 0,
        storedBytes: 0,
      };
      if (!options.dryRun && needsRelocation(a, options)) {
        const r = await relocateSnapshot(repo, pool, entry, scoped, a, assertHeld);
        Object.assign(v, { relocated: true, copiedBytes: r.copiedBytes, packsWritten: r.packsWritten, storedBytes: r.storedBytes });
        report.copiedBytes += r.copiedBytes;
        report.storedBytes += r.storedBytes;
      }
      report.volumes.push(v);
    } finally {
      await scoped.close();
    }
  }
  return report;
}

async function newestOfEachVolume(repo: Repository, volumes: readonly string[] | undefined): Promise<SnapshotEntry[]> {
  const lists = volumes ? await Promise.all(volumes.map((v) => repo.listVolumeSnapshots(v))) : [await repo.listSnapshots()];
  const newest = new Map<string, SnapshotEntry>();
  // Oldest first, so the last one seen of a volume is its newest.
  for (const list of lists) for (const e of list) newest.set(e.snapshot.volumeId, e);
  return [...newest.values()].sort((a, b) => (a.snapshot.volumeId < b.snapshot.volumeId ? -1 : 1));
}
