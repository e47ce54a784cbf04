/**
 * The gate in front of every volume job: it runs only while it holds its (volume, stage) lock
 * and, for archives, one of its policy's fleet-wide slots (`concurrency`) and a point of its
 * policy's rate budget (`rateLimit`). A job that cannot pass is re-delayed (moveToDelayed +
 * DelayedError) instead of waiting in a worker slot; re-delaying does not count as an attempt.
 * Budget is taken last, so a job turned away for a busy volume or slot spends none.
 */
import { DelayedError, type Job } from 'bullmq';
import type { Clock } from '@snapfleet/shared';
import { formatIntervalMs, type PolicyConfig } from '@snapfleet/shared/config';
import { QUEUE, policySlotsKey, stageLockKey, type FleetLogger } from '@snapfleet/shared/jobs';
import type { HeldLock, LockService } from './stage-lock.js';
import type { SlotService } from './policy-slots.js';
import type { PolicyRateLimits } from './policy-rate-limits.js';
import type { Processor } from './processors/processor-deps.js';

export interface GateDeps {
  locks: LockService;
  slots: SlotService;
  rates: PolicyRateLimits;
  /** The policy in the running configuration (it may change with a reload). */
  policy: (name: string) => PolicyConfig | undefined;
  /** The per-(volume, stage) lock TTL in the running configuration. */
  ttlMs: () => number;
  prefix: string;
  clock: Clock;
  log: FleetLogger;
}

/** Re-delay a job whose (volume, stage) lock or policy slot is held elsewhere: about a lock TTL, jittered. */
function lockRetryDelay(ttlMs: number): number {
  return Math.min(ttlMs, 5_000) * (0.5 + Math.random());
}

export function gated(stage: string, processor: Processor, deps: GateDeps): Processor {
  const release = (lock: HeldLock) =>
    lock.release().catch((err: Error) => deps.log.warn({ key: lock.key, err: err.message }, 'lock release failed (it expires by itself)'));
  const redelay = async (job: Job, token: string | undefined, why: string, delayMs: number) => {
    deps.log.debug({ jobId: job.id, stage, delayMs: Math.round(delayMs) }, `${why}; re-delaying`);
    await job.moveToDelayed(deps.clock.now().getTime() + delayMs, token);
    return new DelayedError();
  };
  return async (job: Job, token?: string) => {
    const volumeId = typeof job.data?.volumeId === 'string' ? job.data.volumeId : undefined;
    if (!volumeId) return processor(job, token); // verify, or a malformed payload the processor rejects
    const ttlMs = deps.ttlMs();
    const lock = await deps.locks.tryAcquire(stageLockKey(deps.prefix, stage, volumeId), ttlMs);
    if (!lock) throw await redelay(job, token, `volume ${volumeId} busy in this stage`, lockRetryDelay(ttlMs));
    let slot: HeldLock | undefined;
    try {
      const name = typeof job.data?.policy === 'string' ? job.data.policy : undefined;
      const policy = stage === QUEUE.archive && name ? deps.policy(name) : undefined;
      if (policy?.concurrency !== undefined) {
        slot = await deps.slots.tryAcquire(policySlotsKey(deps.prefix, stage, policy.name), policy.concurrency, ttlMs);
        if (!slot) throw await redelay(job, token, `policy ${policy.name} runs ${policy.concurrency} archive(s) already`, lockRetryDelay(ttlMs));
      }
      if (policy?.rateLimit) {
        const waitMs = await deps.rates.tryStart({ ...policy, rateLimit: policy.rateLimit });
        if (waitMs > 0) {
          const budget = `${policy.rateLimit.max} per ${formatIntervalMs(policy.rateLimit.duration)}`;
          throw await redelay(job, token, `policy ${policy.name} is over its rate limit (${budget} archives)`, waitMs);
        }
      }
      return await processor(job, token);
    } finally {
      if (slot) await release(slot);
      await release(lock);
    }
  };
}
