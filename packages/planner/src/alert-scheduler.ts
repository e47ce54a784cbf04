/**
 * The RPO check behind alerts: one job scheduler on the alert queue, firing a `check` job every
 * alerts.checkEvery while the config has alerts, removed when it has none. Upserting is
 * idempotent, so any number of planners keep one scheduler.
 */
import type { Queue } from 'bullmq';
import type { FleetConfig } from '@snapfleet/shared/config';

export const ALERT_CHECK_SCHEDULER = 'alert-check';

export async function reconcileAlertCheck(queue: Queue, config: FleetConfig): Promise<void> {
  if (!config.alerts) {
    await queue.removeJobScheduler(ALERT_CHECK_SCHEDULER);
    return;
  }
  await queue.upsertJobScheduler(
    ALERT_CHECK_SCHEDULER,
    { every: config.alerts.checkEvery },
    { name: 'check', data: { v: 1 }, opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 100 } } },
  );
}
