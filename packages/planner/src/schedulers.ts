/**
 * The planner's job schedulers: one per policy schedule (a tick that enqueues the policy's
 * volumes) and one per repository verify schedule. Reconciliation makes Redis match the config:
 * upsert every desired scheduler (idempotent, safe from several planners at once) and remove the
 * ones of policies or schedules that are gone.
 */
import type { Queue, RepeatOptions } from 'bullmq';
import type { FleetConfig, ScheduleConfig } from '@snapfleet/shared/config';
import { schedulerId, type FleetLogger, type TickJob } from '@snapfleet/shared/jobs';
import { tickJobOptions } from './job-options.js';

export interface DesiredScheduler {
  id: string;
  repeat: Omit<RepeatOptions, 'key'>;
  data: TickJob;
}

function repeatOf(s: ScheduleConfig): Omit<RepeatOptions, 'key'> {
  return 'cron' in s ? { pattern: s.cron, tz: s.timeZone } : { every: s.every };
}

export function desiredSchedulers(config: FleetConfig): DesiredScheduler[] {
  const out: DesiredScheduler[] = [];
  for (const p of config.policies) {
    p.schedules.forEach((s, i) => out.push({ id: schedulerId('tick', p.name, i), repeat: repeatOf(s), data: { v: 1, kind: 'policy', policy: p.name } }));
  }
  for (const [name, r] of Object.entries(config.repositories)) {
    if (r.verify) out.push({ id: schedulerId('verify', name, 0), repeat: repeatOf(r.verify.schedule), data: { v: 1, kind: 'verify', repository: name } });
  }
  return out;
}

export async function reconcileSchedulers(queue: Queue, config: FleetConfig, log: FleetLogger): Promise<{ upserted: string[]; removed: string[] }> {
  const desired = desiredSchedulers(config);
  const wanted = new Set(desired.map((d) => d.id));
  const removed: string[] = [];
  for (const existing of await queue.getJobSchedulers(0, -1)) {
    const id = existing.id ?? existing.key;
    if (!wanted.has(id)) {
      await queue.removeJobScheduler(id);
      removed.push(id);
    }
  }
  for (const d of desired) await queue.upsertJobScheduler(d.id, d.repeat, { name: 'tick', data: d.data, opts: tickJobOptions() });
  log.info({ schedulers: desired.map((d) => d.id), removed }, 'job schedulers reconciled');
  return { upserted: desired.map((d) => d.id), removed };
}
