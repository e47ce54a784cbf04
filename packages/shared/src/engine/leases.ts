/**
 * Leases: how a running archive tells prune "wait for me". An archive holds one from before it
 * loads the index until after its snapshot is stored, renewing it while it runs. Prune deletes
 * condemned packs only when no archive that might have missed the deletion marker still holds
 * a lease (docs/format.md, "Garbage collection").
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
import type { HolderId, ProcessIdentity } from '../ports/process-identity.js';
import { CorruptDataError, NotFoundError, PermanentError, RepositoryLockedError, TransientError } from '../errors.js';
import { decodeEnvelope, encodeEnvelope } from '../format/envelope.js';
import { decodeLease, encodeLease, type Lease } from '../format/lease.js';
import { LOCKS_PREFIX, lockKey } from '../format/layout.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import type { Repository } from './repository.js';

/**
 * 10 minutes: a store outage shorter than this never lets a live archive's lease lapse, and a
 * crashed archive delays deletion (never archiving) by no more than this.
 */
export const LEASE_TTL_MS = 10 * 60_000;
/** Renew well before expiry: three renewals may fail before the lease lapses. */
export const LEASE_RENEW_MS = LEASE_TTL_MS / 4;
/** Hosts' clocks may disagree by this much; a lease counts as live until expiry plus this. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface HeldLease {
  readonly id: string;
  /** Throws when the lease may have lapsed in others' eyes: the holder must not commit. */
  assertHeld(): void;
  release(): Promise<void>;
}

export async function acquireLease(repo: Repository, clock: Clock, kind: Lease['kind'], hostname?: string, holder?: HolderId): Promise<HeldLease> {
  const id = randomBytes(16).toString('hex');
  const created = clock.now();
  let expires = new Date(created.getTime() + LEASE_TTL_MS);
  const write = () =>
    repo.store.put(
      lockKey(id),
      encodeEnvelope(
        encodeLease({
          version: 1,
          kind,
          ...(hostname ? { hostname } : {}),
          ...(holder ? { holder } : {}),
          created: created.toISOString(),
          expires: expires.toISOString(),
        }),
        repo.keys.enc,
      ),
    );
  await write();
  let renewing: Promise<void> | undefined;
  const stopRenewing = clock.every?.(LEASE_RENEW_MS, () => {
    if (renewing) return;
    const next = new Date(clock.now().getTime() + LEASE_TTL_MS);
    const previous = expires;
    expires = next;
    renewing = write()
      .catch(() => {
        expires = previous; // the store did not take it: others still see the old expiry
      })
      .finally(() => (renewing = undefined));
  });
  return {
    id,
    assertHeld() {
      if (clock.now().getTime() >= expires.getTime()) {
        throw new TransientError(`lease ${id} lapsed (could not renew it in ${repo.store.location}); not committing`);
      }
    },
    async release() {
      stopRenewing?.();
      await renewing;
      await repo.store.delete(lockKey(id));
    },
  };
}

export interface LeaseEntry {
  id: string;
  lease: Lease;
}

export interface ExclusiveLeaseOptions {
  hostname?: string;
  /** Records this process in the lease, and lets leases of dead processes on this machine go at once. */
  identity?: ProcessIdentity;
}

/**
 * A lease that no other holder of the same kind may hold at the same time (prune: two prunes
 * planning against each other's half-done repacks could each delete the copy the other kept).
 * Store first, then list: of two that start together, each sees the other and both back off,
 * which is safe; one that lists after the other stored always sees it. A lease whose holder
 * `identity` knows to be dead is deleted and does not count.
 */
export async function acquireExclusiveLease(repo: Repository, clock: Clock, kind: Lease['kind'], options: ExclusiveLeaseOptions = {}): Promise<HeldLease> {
  const held = await acquireLease(repo, clock, kind, options.hostname, options.identity?.self);
  const others: LeaseEntry[] = [];
  try {
    for (const e of await liveLeases(repo, clock, kind)) {
      if (e.id === held.id) continue;
      if (e.lease.holder && options.identity?.isGone(e.lease.holder)) await repo.store.delete(lockKey(e.id));
      else others.push(e);
    }
  } catch (err) {
    await held.release().catch(() => undefined);
    throw err;
  }
  if (others.length === 0) return held;
  await held.release();
  const o = others[0]!;
  throw new RepositoryLockedError(
    `another ${kind} is running on ${repo.store.location} (lease ${o.id}${o.lease.hostname ? ` on ${o.lease.hostname}` : ''}, started ${o.lease.created}); ` +
      `try again when it has finished (a ${kind} that died on another machine stops counting ${Math.round((LEASE_TTL_MS + CLOCK_SKEW_MS) / 60_000)} minutes after its last renewal)`,
    { holder: o.id },
  );
}

/**
 * Leases whose holder may still be running (of one kind, or all), judged with this host's clock
 * and the skew margin.
 */
export async function liveLeases(repo: Repository, clock: Clock, kind?: Lease['kind'], identity?: ProcessIdentity): Promise<LeaseEntry[]> {
  const now = clock.now().getTime();
  return (await allLeases(repo)).filter((e) => isLive(e.lease, now, identity) && (kind === undefined || e.lease.kind === kind));
}

/**
 * Live until expiry plus the skew margin, unless `identity` knows its holder is gone: a process of
 * this machine that was killed (SIGKILL, OOM) need not block prune until its lease runs out.
 */
function isLive(lease: Lease, now: number, identity?: ProcessIdentity): boolean {
  if (lease.holder && identity?.isGone(lease.holder)) return false;
  return Date.parse(lease.expires) + CLOCK_SKEW_MS > now;
}

/**
 * Deletes the lease objects of holders that died without releasing them (killed archives): expired
 * ones, and with `identity` those whose process of this machine is gone.
 */
export async function removeExpiredLeases(repo: Repository, clock: Clock, identity?: ProcessIdentity): Promise<number> {
  const now = clock.now().getTime();
  const dead = (await allLeases(repo)).filter((e) => !isLive(e.lease, now, identity));
  for (const e of dead) await repo.store.delete(lockKey(e.id));
  return dead.length;
}

async function allLeases(repo: Repository): Promise<LeaseEntry[]> {
  const { leases, unreadable } = await readLeases(repo);
  // A lease that could not be fetched may be live: judging without it could delete what its
  // archive needs. A damaged one is no holder anyone can wait for.
  const failed = unreadable.find((u) => !(u.error instanceof CorruptDataError) && !(u.error instanceof PermanentError));
  if (failed) throw failed.error;
  // A lease of a newer release cannot be judged either: stop, naming the object and how to
  // remove it if it is junk.
  const newer = unreadable.find((u) => u.error instanceof PermanentError);
  if (newer) {
    throw new PermanentError(
      `lease ${newer.key} cannot be read (${(newer.error as Error).message}); if no newer snapfleet wrote it, remove it with \`snapfleet unlock --remove-all\``,
      { cause: newer.error },
    );
  }
  return leases;
}

export interface LeaseListing {
  leases: LeaseEntry[];
  /** Objects under locks/ that are no lease this release can read: damaged, foreign, or newer. */
  unreadable: { key: string; error: unknown }[];
}

/** Every lease object, read; one deleted while listed is left out. */
export async function readLeases(repo: Repository): Promise<LeaseListing> {
  const keys = (await collect(repo.store.list(LOCKS_PREFIX))).map((o) => o.key);
  const listing: LeaseListing = { leases: [], unreadable: [] };
  await mapLimit(keys, METADATA_READS_IN_FLIGHT, async (key) => {
    const id = key.slice(LOCKS_PREFIX.length);
    try {
      listing.leases.push({ id, lease: decodeLease(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key) });
    } catch (err) {
      if (err instanceof NotFoundError) return; // released while we listed
      listing.unreadable.push({ key, error: err });
    }
  });
  return listing;
}
