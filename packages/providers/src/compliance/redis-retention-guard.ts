/**
 * The retention guard's state in Redis (shared/retention/retention-change.ts): the rules accepted
 * per subject (a policy, or orphans) and the changes held per (subject, volume, tier) with what
 * they would have deleted. Status and the board read the held ones; `snapfleet retention
 * confirm` accepts the running rules and clears what they held.
 */
import type { Redis } from 'ioredis';
import { retentionAcceptedKey, retentionHeldKey } from '@snapfleet/shared/jobs';
import type { ChangeImpact } from '@snapfleet/shared/retention';

export interface HeldChange extends ChangeImpact {
  /** `policy/<name>` or `orphans`. */
  subject: string;
  /** The policy the volume's snapshots are of. */
  policy: string;
  volumeId: string;
  tier: 'archive' | 'snapshot';
  /** ISO 8601: when a job last held it. */
  at: string;
}

const heldField = (subject: string, policy: string, volumeId: string, tier: string) => JSON.stringify([subject, policy, volumeId, tier]);

export function createRetentionGuardStore(redis: Redis, prefix: string) {
  const accepted = retentionAcceptedKey(prefix);
  const held = retentionHeldKey(prefix);
  return {
    accepted: (subject: string): Promise<string | null> => redis.hget(accepted, subject),
    /** The accepted rules, `rules` becoming them when none were (the first time a subject is seen). */
    async acceptIfNone(subject: string, rules: string): Promise<string> {
      await redis.hsetnx(accepted, subject, rules);
      return (await redis.hget(accepted, subject)) ?? rules;
    },
    /** Accepts `rules` for the subject and forgets the changes it held. */
    async accept(subject: string, rules: string): Promise<number> {
      await redis.hset(accepted, subject, rules);
      const fields = (await redis.hkeys(held)).filter((f) => (JSON.parse(f) as string[])[0] === subject);
      if (fields.length) await redis.hdel(held, ...fields);
      return fields.length;
    },
    async hold(change: HeldChange): Promise<void> {
      await redis.hset(held, heldField(change.subject, change.policy, change.volumeId, change.tier), JSON.stringify(change));
    },
    async release(subject: string, policy: string, volumeId: string, tier: 'archive' | 'snapshot'): Promise<void> {
      await redis.hdel(held, heldField(subject, policy, volumeId, tier));
    },
    /** Every held change, the largest share first. */
    async listHeld(): Promise<HeldChange[]> {
      const out: HeldChange[] = [];
      for (const v of Object.values(await redis.hgetall(held))) {
        try {
          out.push(JSON.parse(v) as HeldChange);
        } catch {
          // a damaged entry is passed over; the next job of its volume writes it again
        }
      }
      return out.sort((a, b) => b.share - a.share || a.volumeId.localeCompare(b.volumeId));
    },
  };
}

export type RetentionGuardStore = ReturnType<typeof createRetentionGuardStore>;
