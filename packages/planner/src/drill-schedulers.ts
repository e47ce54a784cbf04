/**
 * Restore drills: one job scheduler per policy with a `drill` section, on the verify queue (a
 * drill reads a repository as verify does), each firing a `drill` job on the policy's drill
 * schedule. Reconciled like the tick schedulers: upserts are idempotent, and the schedulers of
 * policies that lost their drill (or left the config) are removed.
 */
import type { Queue, RepeatOptions } from 'bullmq';
import type { FleetConfig, ScheduleConfig } from '@snapfleet/shared/config';
import type { DrillJob } from '@snapfleet/shared/jobs';

const PREFIX = 'drill-';

function repeatOf(s: ScheduleConfig): Omit<RepeatOptions, 'key'> {
  return 'cron' in s ? { pattern: s.cron, tz: s.timeZone } : { every: s.every };
}

export async function reconcileDrillSchedulers(queue: Queue, config: FleetConfig): Promise<string[]> {
  const wanted = new Map(config.policies.filter((p) => p.drill).map((p) => [`${PREFIX}${p.name}`, p]));
  for (const existing of await queue.getJobSchedulers(0, -1)) {
    const id = existing.id ?? existing.key;
    if (id.startsWith(PREFIX) && !wanted.has(id)) await queue.removeJobScheduler(id);
  }
  for (const [id, p] of wanted) {
    const data: DrillJob = { v: 1, policy: p.name };
    // One attempt: a failed drill is a finding to report, not a hiccup to retry.
    await queue.upsertJobScheduler(id, repeatOf(p.drill!.schedule), {
      name: 'drill',
      data,
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
    });
  }
  return [...wanted.keys()];
}
