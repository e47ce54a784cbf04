/**
 * The retention guard around one job's plans (shared/retention/retention-change.ts): the job's
 * rules are compared with the rules accepted for their subject, and each tier's deletions that
 * go further than the accepted rules by more than `retentionGuard.maxShare` of the volume's
 * snapshots are cut back to what both rule sets delete, and recorded as held.
 */
import {
  canonicalRules,
  guardPlan,
  KEEP_EVERYTHING,
  parseGuardedRules,
  sameTierRules,
  type GuardedRules,
  type GuardedTierRules,
} from '@snapfleet/shared/retention';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import type { RetentionGuardStore } from '@snapfleet/providers/fleet';
import type { AlertOutbox } from '../alerts/alert-outbox.js';

export type GuardedTier = 'archive' | 'snapshot';

/** Plans one tier under `rules`; returns what they delete. */
export type TierPlanner<T> = (rules: GuardedTierRules) => T[];

export type TierGuard = <T>(tier: GuardedTier, total: number, plan: TierPlanner<T>, id: (t: T) => string) => Promise<T[]>;

export interface TierGuardContext {
  store: RetentionGuardStore;
  maxShare: number;
  log: FleetLogger;
  now: Date;
  jobId: string | undefined;
  /** `policy/<name>` or `orphans`. */
  subject: string;
  /** The policy the volume's snapshots are of. */
  policy: string;
  volumeId: string;
  /** The rules the job runs with. */
  current: GuardedRules;
  /** Where a held change is reported (`retention-held`, once per subject per quiet period). @defaultValue not reported */
  alerts?: AlertOutbox;
}

/**
 * `baseline`: what counts as accepted when the subject has no accepted rules yet. Absent, the
 * job's own rules become the accepted ones (a policy seen for the first time has nothing to be
 * compared with).
 */
export async function createTierGuard(ctx: TierGuardContext, baseline?: () => Promise<GuardedRules>): Promise<TierGuard> {
  const currentText = canonicalRules(ctx.current);
  const stored = baseline ? await ctx.store.accepted(ctx.subject) : await ctx.store.acceptIfNone(ctx.subject, currentText);
  // Unreadable accepted rules count as keeping everything: the guard errs on keeping.
  const accepted = stored === null ? await baseline!() : stored === currentText ? undefined : (parseGuardedRules(stored) ?? KEEP_EVERYTHING);
  return async <T>(tier: GuardedTier, total: number, plan: TierPlanner<T>, id: (t: T) => string): Promise<T[]> => {
    const underCurrent = plan(ctx.current[tier]);
    if (!accepted || sameTierRules(accepted[tier], ctx.current[tier])) return underCurrent;
    const guarded = guardPlan(total, underCurrent, plan(accepted[tier]), id, ctx.maxShare);
    const where = { subject: ctx.subject, policy: ctx.policy, volumeId: ctx.volumeId, tier };
    if (guarded.held) {
      const impact = guarded.impact!;
      await ctx.store.hold({ ...where, ...impact, at: ctx.now.toISOString() });
      ctx.log.warn(
        { jobId: ctx.jobId, ...where, extra: impact.extra, total: impact.total, share: Number(impact.share.toFixed(3)), maxShare: ctx.maxShare },
        'retention change held: it would delete more of the volume than retentionGuard.maxShare allows; run snapfleet retention confirm',
      );
      const percent = (impact.share * 100).toFixed(0);
      const confirm = ctx.subject === 'orphans' ? '--orphans' : `--policy ${ctx.policy}`;
      const summary = `retention change of ${ctx.subject} held: it would delete ${impact.extra} more of the ${impact.total} ${tier}-tier snapshots of ${ctx.policy}/${ctx.volumeId} (${percent}%, more than retentionGuard.maxShare ${ctx.maxShare}); see snapfleet retention held, then snapfleet retention confirm ${confirm}`;
      // One alert per subject: a policy's change holds every volume of the policy at once.
      await ctx.alerts
        ?.send(
          {
            event: 'retention-held',
            at: ctx.now.toISOString(),
            summary,
            policy: ctx.policy,
            volumeId: ctx.volumeId,
            details: { subject: ctx.subject, tier, extra: impact.extra, total: impact.total },
          },
          JSON.stringify(['retention-held', ctx.subject]),
        )
        .catch((err: Error) => ctx.log.warn({ err: err.message }, 'could not enqueue a retention-held alert'));
    } else {
      await ctx.store.release(ctx.subject, ctx.policy, ctx.volumeId, tier);
    }
    return guarded.remove;
  };
}
