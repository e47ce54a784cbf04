/**
 * The alert queue's jobs. `check` (from the planner's job scheduler, every alerts.checkEvery)
 * judges RPO compliance from the fleet's records, as the board's metrics do, and enqueues a
 * breach or recovery alert for each volume whose state changed (shared/compliance decides; the
 * states live in one Redis hash). `deliver` sends one alert to one target; a failed send is
 * retried with backoff by the queue.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { PermanentError, type Clock } from '@snapfleet/shared';
import type { FleetConfig } from '@snapfleet/shared/config';
import { assessCompliance, decideRpoAlerts, formatAge, policyRpos, type RpoAlertDecision, type RpoAlertState } from '@snapfleet/shared/compliance';
import { alertDeliveryJobSchema, alertStateKey, repositoryLockKey, type Alert, type FleetLogger } from '@snapfleet/shared/jobs';
import { readComplianceRecords, sendAlert } from '@snapfleet/providers/fleet';
import { parsePayload } from '../job-errors.js';
import type { AlertOutbox } from '../alerts/alert-outbox.js';
import type { LockService } from '../stage-lock.js';
import type { Processor } from './processor-deps.js';

/** One check at a time across the fleet; a check takes a few Redis reads. */
const CHECK_LOCK_TTL_MS = 60_000;

export interface AlertDeps {
  readonly config: FleetConfig;
  redis: Redis;
  prefix: string;
  clock: Clock;
  log: FleetLogger;
  locks: LockService;
  outbox: AlertOutbox;
  /** Where targets' `urlEnv` are looked up. */
  env: Readonly<Record<string, string | undefined>>;
  /** @defaultValue sendAlert over fetch */
  send?: typeof sendAlert;
}

export function createAlertProcessor(deps: AlertDeps): Processor {
  return async (job: Job) => {
    if (job.name === 'check') return check(deps);
    if (job.name === 'deliver') return deliver(deps, job);
    throw new PermanentError(`unknown alert job ${JSON.stringify(job.name)}`);
  };
}

async function check(deps: AlertDeps): Promise<{ volumes: number; sent: number } | { skipped: string }> {
  const config = deps.config;
  if (!config.alerts) return { skipped: 'no alerts configured' };
  const lock = await deps.locks.tryAcquire(repositoryLockKey(deps.prefix, 'alert-check', 'fleet'), CHECK_LOCK_TTL_MS);
  if (!lock) return { skipped: 'another check is running' };
  try {
    const now = deps.clock.now();
    const rpos = policyRpos(config, now);
    const recorded = await readComplianceRecords(deps.redis, deps.prefix, [...rpos.keys()]);
    const policies = [...rpos].map(([name, rpoMs]) => {
      const covered = recorded.covered.get(name);
      return { name, rpoMs, ...(covered ? { volumes: [...covered.since.keys()], coveredSince: covered.since } : {}) };
    });
    const volumes = assessCompliance(policies, recorded.records, now);
    const key = alertStateKey(deps.prefix);
    const decisions = decideRpoAlerts(volumes, parseStates(await deps.redis.hgetall(key)), now, config.alerts.quietPeriod);
    let sent = 0;
    // Sent before the states are kept: a check that dies between the two sends again, never never.
    for (const d of decisions) if (d.send) sent += await deps.outbox.send(rpoAlert(d, now));
    if (decisions.length > 0) {
      const m = deps.redis.multi();
      for (const d of decisions) {
        const field = JSON.stringify([d.policy, d.volumeId]);
        if (d.next) m.hset(key, field, JSON.stringify(d.next));
        else m.hdel(key, field);
      }
      await m.exec();
    }
    if (sent > 0) deps.log.info({ volumes: volumes.length, sent }, 'RPO alerts enqueued');
    return { volumes: volumes.length, sent };
  } finally {
    await lock.release();
  }
}

async function deliver(deps: AlertDeps, job: Job): Promise<{ target: string; event: string }> {
  const data = parsePayload(alertDeliveryJobSchema, job.data, 'alert');
  const target = deps.config.alerts?.targets.find((t) => t.name === data.target);
  if (!target) throw new PermanentError(`alert target ${data.target} is not in this worker's configuration`);
  const url = target.url?.reveal() ?? (target.urlEnv ? deps.env[target.urlEnv] : undefined);
  if (!url) throw new PermanentError(`alert target ${target.name}: environment variable ${target.urlEnv} is not set on this worker`);
  await (deps.send ?? sendAlert)({ name: target.name, kind: target.kind, url }, data.alert, deps.prefix);
  deps.log.info({ target: target.name, event: data.alert.event, policy: data.alert.policy, volume: data.alert.volumeId }, 'alert sent');
  return { target: target.name, event: data.alert.event };
}

function rpoAlert(d: RpoAlertDecision, now: Date): Alert {
  const v = d.volume!;
  const rpo = v.rpoSeconds !== undefined ? `RPO ${formatAge(v.rpoSeconds)}` : 'no RPO';
  const point = v.ageSeconds !== undefined ? `newest recovery point ${formatAge(v.ageSeconds)} old` : 'no recovery point';
  const summary =
    d.send === 'rpo-breached'
      ? `${v.policy}/${v.volumeId}: ${point}, ${rpo}${v.lastError ? `; last error (${v.lastError.queue}): ${v.lastError.message}` : ''}`
      : `${v.policy}/${v.volumeId}: ${point}, within ${rpo} again`;
  const details: Record<string, string | number> = { state: v.state };
  if (v.ageSeconds !== undefined) details.ageSeconds = Math.round(v.ageSeconds);
  if (v.rpoSeconds !== undefined) details.rpoSeconds = v.rpoSeconds;
  if (v.recoveryPoint) details.recoveryPoint = v.recoveryPoint.time;
  if (v.lastError) details.lastError = v.lastError.message.slice(0, 2000);
  return { event: d.send!, at: now.toISOString(), summary: summary.slice(0, 2000), policy: v.policy, volumeId: v.volumeId, details };
}

function parseStates(raw: Record<string, string>): Map<string, RpoAlertState> {
  const out = new Map<string, RpoAlertState>();
  for (const [field, value] of Object.entries(raw)) {
    try {
      const key: unknown = JSON.parse(field);
      if (!Array.isArray(key) || key.length !== 2 || typeof key[0] !== 'string' || typeof key[1] !== 'string') continue;
      const s = JSON.parse(value) as Partial<RpoAlertState>;
      if ((s.state === 'breached' || s.state === 'ok') && typeof s.alerted === 'boolean') {
        out.set(field, { state: s.state, alerted: s.alerted, ...(typeof s.alertedAt === 'string' ? { alertedAt: s.alertedAt } : {}) });
      }
    } catch {
      // Written by this module alone; an unreadable state is dropped and decided afresh.
    }
  }
  return out;
}
