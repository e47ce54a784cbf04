/**
 * Unlock: removes leases (locks/) that hold prune back for no one. By default only those of
 * holders known to be dead: expired ones, and those whose process of this machine is gone (the
 * process identity says so). With `all`, every object under locks/, live leases and unreadable
 * objects included: for an operator who knows no archive, prune or maintenance runs anywhere.
 * Removing a live archive's lease lets a prune delete data that archive is about to rely on.
 */
import type { Clock } from '../ports/clock.js';
import type { ProcessIdentity } from '../ports/process-identity.js';
import { lockKey } from '../format/layout.js';
import { CLOCK_SKEW_MS, readLeases } from './leases.js';
import type { Repository } from './repository.js';

export interface UnlockOptions {
  clock: Clock;
  identity?: ProcessIdentity;
  /** Remove every lease and every unreadable object under locks/, live or not. */
  all?: boolean;
}

export interface UnlockedLease {
  /** The object's key. */
  key: string;
  kind?: 'archive' | 'prune';
  hostname?: string;
  created?: string;
  /** Why it was (or was not) removed. */
  state: 'expired' | 'holder-gone' | 'live' | 'unreadable';
}

export interface UnlockReport {
  removed: UnlockedLease[];
  kept: UnlockedLease[];
}

export async function unlockRepository(repo: Repository, options: UnlockOptions): Promise<UnlockReport> {
  const now = options.clock.now().getTime();
  const { leases, unreadable } = await readLeases(repo);
  const report: UnlockReport = { removed: [], kept: [] };
  const judged: UnlockedLease[] = [
    ...leases.map(({ id, lease }): UnlockedLease => {
      const gone = lease.holder !== undefined && options.identity?.isGone(lease.holder) === true;
      const expired = Date.parse(lease.expires) + CLOCK_SKEW_MS <= now;
      return {
        key: lockKey(id),
        kind: lease.kind,
        ...(lease.hostname ? { hostname: lease.hostname } : {}),
        created: lease.created,
        state: gone ? 'holder-gone' : expired ? 'expired' : 'live',
      };
    }),
    ...unreadable.map(({ key }): UnlockedLease => ({ key, state: 'unreadable' })),
  ];
  for (const l of judged) {
    const remove = options.all || l.state === 'expired' || l.state === 'holder-gone';
    if (remove) await repo.store.delete(l.key);
    (remove ? report.removed : report.kept).push(l);
  }
  return report;
}
