/**
 * Retrieval of a snapshot's packs from an archive storage class (S3 Glacier Flexible Retrieval,
 * Deep Archive) before a restore: every pack the snapshot's pack list names that has no readable
 * copy is asked for one (S3 RestoreObject, for `days`), then their state is polled, at growing
 * intervals, until all are readable. Manifests, the index and snapshot objects never need this:
 * they stay in the default class (docs/format.md, "Config").
 */
import type { Clock } from '../ports/clock.js';
import type { RetrievalState, RetrievalTier } from '../ports/blob-store.js';
import { InvalidInputError, TransientError } from '../errors.js';
import { packKey } from '../format/layout.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { snapshotPackList } from './snapshot-index.js';
import type { Repository } from './repository.js';

/** S3 answers Standard retrievals in 3-5 hours (Deep Archive: within 12): ask about every 5 minutes at most. */
const FIRST_POLL_MS = 60_000;
const MAX_POLL_MS = 5 * 60_000;
/** Deep Archive's Bulk tier may take 48 hours. */
const DEFAULT_TIMEOUT_MS = 60 * 3600_000;

export interface RetrievalOptions {
  /** How long the retrieved copies stay readable, in days. */
  days: number;
  tier: RetrievalTier;
  clock: Clock;
  /** Waits `ms`; tests pass a fake that moves their clock. */
  sleep: (ms: number) => Promise<void>;
  /** Give up (a TransientError naming what is still archived) after this long. @defaultValue 60 h */
  timeoutMs?: number;
  /** Told after each look at the packs' state. */
  onProgress?: (p: { packs: number; readable: number; waitedMs: number }) => void;
}

export interface RetrievalReport {
  /** Packs the snapshot's pack list names. */
  packs: number;
  /** Of them, readable when the retrieval started (default-class packs, copies still retrieved). */
  readableAtStart: number;
  /** Retrievals asked for. */
  requested: number;
  /** Looks at the packs' state after the first. */
  polls: number;
  waitedMs: number;
}

/** The keys of the packs a restore of the snapshot reads. */
async function snapshotPackKeys(repo: Repository, entry: SnapshotEntry): Promise<string[]> {
  const listed = await snapshotPackList(repo, entry);
  if (!listed) throw new InvalidInputError(`snapshot ${entry.id} has no pack list: its packs cannot be told apart for a retrieval`, 'snapshot');
  return listed.map((p) => packKey(p.packId));
}

async function states(repo: Repository, keys: readonly string[]): Promise<RetrievalState[]> {
  const state = repo.store.retrievalState?.bind(repo.store);
  if (!state) return keys.map(() => 'readable');
  return mapLimit(keys, METADATA_READS_IN_FLIGHT, (key) => state(key));
}

/** How many of the snapshot's packs cannot be read now (0 when its repository keeps no archive class). */
export async function packsAwaitingRetrieval(repo: Repository, entry: SnapshotEntry): Promise<{ packs: number; notReadable: number }> {
  if (!repo.archivedPacks) return { packs: 0, notReadable: 0 };
  const keys = await snapshotPackKeys(repo, entry);
  return { packs: keys.length, notReadable: (await states(repo, keys)).filter((s) => s !== 'readable').length };
}

export async function retrieveSnapshotPacks(repo: Repository, entry: SnapshotEntry, options: RetrievalOptions): Promise<RetrievalReport> {
  if (!(options.days >= 1 && Number.isInteger(options.days)))
    throw new InvalidInputError(`retrieval days ${options.days} must be a whole number of at least 1`, 'retrieval-days');
  const keys = await snapshotPackKeys(repo, entry);
  const report: RetrievalReport = { packs: keys.length, readableAtStart: 0, requested: 0, polls: 0, waitedMs: 0 };
  if (!repo.archivedPacks || !repo.store.requestRetrieval) {
    report.readableAtStart = keys.length;
    return report;
  }
  const request = repo.store.requestRetrieval.bind(repo.store);
  const first = await states(repo, keys);
  let pending = keys.filter((_, i) => first[i] !== 'readable');
  report.readableAtStart = keys.length - pending.length;
  const archived = keys.filter((_, i) => first[i] === 'archived');
  await mapLimit(archived, METADATA_READS_IN_FLIGHT, (key) => request(key, { days: options.days, tier: options.tier }));
  report.requested = archived.length;
  const start = options.clock.now().getTime();
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let interval = FIRST_POLL_MS;
  options.onProgress?.({ packs: keys.length, readable: keys.length - pending.length, waitedMs: 0 });
  while (pending.length > 0) {
    const waited = options.clock.now().getTime() - start;
    if (waited >= timeout) {
      throw new TransientError(
        `${pending.length} of ${keys.length} packs of snapshot ${entry.id} were still being retrieved after ${Math.round(waited / 60_000)} min (first: ${pending[0]}); run the restore again to go on waiting`,
      );
    }
    await options.sleep(Math.min(interval, timeout - waited));
    interval = Math.min(interval * 2, MAX_POLL_MS);
    const now = await states(repo, pending);
    // A copy that expired meanwhile (days too short for a long wait) is asked for again.
    const lapsed = pending.filter((_, i) => now[i] === 'archived');
    await mapLimit(lapsed, METADATA_READS_IN_FLIGHT, (key) => request(key, { days: options.days, tier: options.tier }));
    report.requested += lapsed.length;
    pending = pending.filter((_, i) => now[i] !== 'readable');
    report.polls++;
    report.waitedMs = options.clock.now().getTime() - start;
    options.onProgress?.({ packs: keys.length, readable: keys.length - pending.length, waitedMs: report.waitedMs });
  }
  return report;
}
