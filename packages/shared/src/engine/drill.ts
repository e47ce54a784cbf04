/**
 * A restore drill of one snapshot: restore it to a scratch target, then read the target back and
 * check every chunk against the snapshot's manifest (volume-check.ts). The restore's wall time is
 * the recovery time objective the drill measures (RTO); the check proves what reached the disk.
 * The caller provides the target and how to read it back, and removes it afterwards.
 */
import type { Clock } from '../ports/clock.js';
import type { VolumeSource } from '../ports/volume-source.js';
import type { VolumeTarget } from '../ports/volume-target.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { restoreSnapshot } from './restore.js';
import { checkVolumeAgainstSnapshot, type VolumeCheckReport } from './volume-check.js';
import type { Repository } from './repository.js';

export interface DrillReport {
  snapshotId: string;
  volumeId: string;
  sizeBytes: number;
  /** Seconds until the volume was restored (data on disk): the measured RTO. */
  restoreSeconds: number;
  /** Seconds the read-back check took. */
  checkSeconds: number;
  check: VolumeCheckReport;
  /** Every chunk read back matched. */
  ok: boolean;
}

export async function drillSnapshot(
  repo: Repository,
  pool: CodecPool,
  entry: SnapshotEntry,
  io: { target: VolumeTarget; readBack: () => Promise<VolumeSource>; clock: Clock },
): Promise<DrillReport> {
  const t0 = io.clock.now().getTime();
  await restoreSnapshot(repo, pool, { snapshot: entry, target: io.target });
  const t1 = io.clock.now().getTime();
  const source = await io.readBack();
  let check: VolumeCheckReport;
  try {
    check = await checkVolumeAgainstSnapshot(repo, pool, entry, source);
  } finally {
    await source.close();
  }
  const t2 = io.clock.now().getTime();
  return {
    snapshotId: entry.id,
    volumeId: entry.snapshot.volumeId,
    sizeBytes: entry.snapshot.sizeBytes,
    restoreSeconds: (t1 - t0) / 1000,
    checkSeconds: (t2 - t1) / 1000,
    check,
    ok: check.mismatched === 0,
  };
}
