/**
 * Reading and writing damage records (format/damage-record.ts). The records are few and small:
 * one per verify or repair that found something, merged into one by `repair packs`. Readers
 * take the union; an entry marked removed wins over the same pack unmarked (a repair killed
 * between storing the merged record and deleting the old ones leaves both).
 */
import { randomBytes } from 'node:crypto';
import { CorruptDataError, NotFoundError, PermanentError } from '../errors.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { decodeEnvelope, encodeEnvelope } from '../format/envelope.js';
import { DAMAGED_PREFIX, damageRecordKey } from '../format/layout.js';
import { decodeDamageRecord, encodeDamageRecord, type DamagedPack, type PackDamageKind } from '../format/damage-record.js';
import type { MasterKeys } from '../format/master-keys.js';
import type { BlobStore } from '../ports/blob-store.js';

/**
 * What records are read and written through: a Repository is one. Named by the parts used, since
 * repository.ts reads the damaged packs through this file.
 */
export interface DamageRecordsRepository {
  readonly store: BlobStore;
  readonly keys: Pick<MasterKeys, 'enc'>;
}

export interface DamageState {
  /** Every recorded pack once, by id. */
  packs: Map<string, DamagedPack>;
  /** The records read (their keys), to be replaced by a merged one. */
  keys: string[];
  /** Records that did not decode: reported by verify, deleted by the next merge. */
  unreadable: { key: string; message: string }[];
}

export async function loadDamage(repo: DamageRecordsRepository): Promise<DamageState> {
  const keys = (await collect(repo.store.list(DAMAGED_PREFIX))).map((o) => o.key);
  const state: DamageState = { packs: new Map(), keys: [], unreadable: [] };
  await mapLimit(keys, METADATA_READS_IN_FLIGHT, async (key) => {
    try {
      const record = decodeDamageRecord(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key);
      state.keys.push(key);
      for (const p of record.packs) {
        const known = state.packs.get(p.packId);
        if (!known || (p.removed && !known.removed)) state.packs.set(p.packId, p);
      }
    } catch (err) {
      if (err instanceof NotFoundError) return; // merged by a repair meanwhile
      // Damage, or bytes that claim a newer version: either way not a record this release can use.
      if (!(err instanceof CorruptDataError) && !(err instanceof PermanentError)) throw err;
      state.unreadable.push({ key, message: err.message });
    }
  });
  return state;
}

/** Packs archives must not deduplicate against: every recorded one, removed or not. */
export async function damagedPackIds(repo: DamageRecordsRepository): Promise<Set<string>> {
  return new Set((await loadDamage(repo)).packs.keys());
}

/**
 * Damaged packs `repair packs` has taken out of the index (and deleted, unless Object Lock keeps
 * them until their date): never to be adopted back into the index.
 */
export async function removedDamagedPacks(repo: DamageRecordsRepository): Promise<Set<string>> {
  return new Set([...(await loadDamage(repo)).packs.values()].filter((p) => p.removed).map((p) => p.packId));
}

/** Records the packs not recorded yet; returns how many were new. */
export async function recordDamage(repo: DamageRecordsRepository, now: Date, packs: readonly { packId: string; kind: PackDamageKind }[]): Promise<number> {
  if (packs.length === 0) return 0;
  const known = (await loadDamage(repo)).packs;
  const fresh = [...new Map(packs.filter((p) => !known.has(p.packId)).map((p) => [p.packId, { packId: p.packId, kind: p.kind }])).values()];
  if (fresh.length === 0) return 0;
  await putRecord(repo, now, fresh);
  return fresh.length;
}

/**
 * Marks `removed` packs as removed (repair packs deleted them after salvaging what read), in
 * one merged record that replaces every record read: stored first, the old ones deleted after.
 */
export async function markRemoved(repo: DamageRecordsRepository, now: Date, removed: ReadonlySet<string>): Promise<void> {
  const state = await loadDamage(repo);
  const stamp = now.toISOString();
  const packs = [...state.packs.values()].map((p) => (removed.has(p.packId) && !p.removed ? { ...p, removed: stamp } : p));
  await putRecord(repo, now, packs);
  await mapLimit([...state.keys, ...state.unreadable.map((u) => u.key)], METADATA_READS_IN_FLIGHT, (key) => repo.store.delete(key));
}

async function putRecord(repo: DamageRecordsRepository, now: Date, packs: DamagedPack[]): Promise<void> {
  const key = damageRecordKey(randomBytes(32).toString('hex'));
  await repo.store.put(key, encodeEnvelope(encodeDamageRecord({ version: 1, created: now.toISOString(), packs }), repo.keys.enc));
}
