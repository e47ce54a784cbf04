/**
 * The search for orphans (docs/operations.md, "Orphans"): one job scheduler on the retention
 * queue, firing an `orphan-sweep` job every `orphans.every` while the config has an orphans
 * rule, removed when it has none. Upserting is idempotent, so any number of planners keep one.
 */
import type { Queue } from 'bullmq';
import type { FleetConfig } from '@snapfleet/shared/config';
import type { OrphanSweepJob } from '@snapfleet/shared/jobs';

export const ORPHAN_SWEEP_SCHEDULER = 'orphan-sweep';

export async function reconcileOrphanSweep(queue: Queue, config: FleetConfig): Promise<void> {
  if (!config.orphans) {
    await queue.removeJobScheduler(ORPHAN_SWEEP_SCHEDULER);
    return;
  }
  const data: OrphanSweepJob = { v: 1 };
  await queue.upsertJobScheduler(
    ORPHAN_SWEEP_SCHEDULER,
    { every: config.orphans.every },
    { name: 'orphan-sweep', data, opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 100 } } },
  );
}
