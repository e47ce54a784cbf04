/**
 * Verify's checks of the small objects: key files, leases, deletion markers, damage records,
 * pack lists and layout lists. None of them holds data; each damaged one is reported by class
 * and the check goes on.
 */
import { NotFoundError } from '../errors.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { decodeEnvelope } from '../format/envelope.js';
import { KEYS_PREFIX, PRUNE_PREFIX } from '../format/layout.js';
import { LAYOUTS_PREFIX } from '../format/layout-list.js';
import { parseKeyFile } from '../format/master-keys.js';
import { decodeMarker } from '../format/deletion-marker.js';
import { decodePackList, packListKey } from '../format/pack-list.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { loadDamage } from './damage-records.js';
import { readLeases } from './leases.js';
import type { Repository } from './repository.js';
import { isDataVerdict, problem, type Problem, type ProblemKind } from './verify-report.js';

export async function checkSmallObjects(repo: Repository, snapshots: readonly SnapshotEntry[], problems: Problem[]): Promise<void> {
  if (repo.keys.enc) {
    await eachObject(repo, KEYS_PREFIX, 'corrupt-key', problems, async (key) => {
      parseKeyFile(await repo.store.get(key), key);
    });
  }
  const leases = await readLeases(repo);
  for (const u of leases.unreadable) {
    if (!isDataVerdict(u.error)) throw u.error;
    problems.push(problem('corrupt-lease', `${(u.error as Error).message}; \`snapfleet unlock\` removes it`, { object: u.key }));
  }
  await eachObject(repo, PRUNE_PREFIX, 'corrupt-marker', problems, async (key) => {
    decodeMarker(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key);
  });
  for (const u of (await loadDamage(repo)).unreadable) problems.push(problem('corrupt-damage-record', u.message, { object: u.key }));
  const withLists = snapshots.filter((s) => s.snapshot.packList);
  await mapLimit(withLists, METADATA_READS_IN_FLIGHT, async (s) => {
    const key = packListKey(s.snapshot.packList!);
    try {
      decodePackList(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key);
    } catch (err) {
      if (err instanceof NotFoundError) return; // a hint: restores fall back to the index
      if (!isDataVerdict(err)) throw err;
      problems.push(
        problem('corrupt-packlist', `pack list of snapshot ${s.id} is damaged (${err.message}); its restores look its blobs up in the index`, { object: key }),
      );
    }
  });
  await eachObject(repo, LAYOUTS_PREFIX, 'corrupt-packlist', problems, async (key) => {
    decodePackList(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key);
  });
}

/** Reads every object under `prefix` with `check`; damage is reported as `kind`. */
async function eachObject(repo: Repository, prefix: string, kind: ProblemKind, problems: Problem[], check: (key: string) => Promise<void>): Promise<void> {
  const keys = (await collect(repo.store.list(prefix))).map((o) => o.key);
  await mapLimit(keys, METADATA_READS_IN_FLIGHT, async (key) => {
    try {
      await check(key);
    } catch (err) {
      if (err instanceof NotFoundError) return; // removed while listed
      // Damage, or bytes that claim a newer version (junk reads that way as often as not).
      if (!isDataVerdict(err)) throw err;
      problems.push(problem(kind, err.message, { object: key }));
    }
  });
}
