/**
 * The repository's audit trail (format/audit-entry.ts): a command that changed the repository
 * appends one entry when it ends, and `snapfleet audit --repo` lists them. Appending is one put of
 * a new, uniquely named object, with no lease and no read first: it works on a repository that
 * another prune holds, and a command that failed can still say so. Nothing in the engine deletes
 * these objects: prune, repair, maintenance and verify list only the prefixes they own.
 */
import { randomBytes } from 'node:crypto';
import { CorruptDataError, NotFoundError, PermanentError } from '../errors.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { decodeEnvelope, encodeEnvelope } from '../format/envelope.js';
import { AUDIT_PREFIX, MAX_AUDIT_OBJECT_BYTES, decodeAuditEntry, encodeAuditEntry, parseAuditKey, type RepositoryAuditEntry } from '../format/audit-entry.js';
import type { Repository } from './repository.js';

/** 16 random bytes, as lease and marker names have. */
const NONCE_BYTES = 16;

/** Stores `entry` as a new object; returns its key. The time is the caller's (the clock port). */
export async function appendAuditEntry(repo: Repository, entry: RepositoryAuditEntry): Promise<string> {
  const nonce = randomBytes(NONCE_BYTES).toString('hex');
  const { key, plaintext } = encodeAuditEntry({ version: 1, ...entry, nonce }, repo.keys.id);
  await repo.store.put(key, encodeEnvelope(plaintext, repo.keys.enc));
  return key;
}

export interface StoredRepositoryAuditEntry extends RepositoryAuditEntry {
  /** The object's key: its name sorts entries by time. */
  key: string;
}

export interface AuditListOptions {
  /** Entries at or after this time (ISO 8601). */
  since?: string;
  /** Only this action. */
  action?: string;
  /** At most this many, the newest. @defaultValue 100 */
  limit?: number;
  /** An entry that does not read (damaged, altered, or from a newer release) is left out and reported here. */
  onDamaged?: (key: string, err: Error) => void;
}

/**
 * The newest entries that match, newest first. The names carry the time, so `since` costs no
 * reads; entries are read newest first, a batch at a time, until `limit` of them match.
 */
export async function listAuditEntries(repo: Repository, options: AuditListOptions = {}): Promise<StoredRepositoryAuditEntry[]> {
  const limit = options.limit ?? 100;
  const since = options.since === undefined ? -Infinity : Date.parse(options.since);
  const listed = (await collect(repo.store.list(AUDIT_PREFIX)))
    .map((o) => ({ ...o, name: parseAuditKey(o.key) }))
    .filter((o) => o.name !== undefined && Date.parse(o.name.at) >= since)
    .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  const out: StoredRepositoryAuditEntry[] = [];
  for (let i = 0; i < listed.length && out.length < limit; i += METADATA_READS_IN_FLIGHT) {
    const batch = listed.slice(i, i + METADATA_READS_IN_FLIGHT);
    const read = await mapLimit(batch, METADATA_READS_IN_FLIGHT, (o) => readEntry(repo, o.key, o.size, options.onDamaged));
    for (const e of read) if (e && (options.action === undefined || e.action === options.action) && out.length < limit) out.push(e);
  }
  return out;
}

async function readEntry(
  repo: Repository,
  key: string,
  size: number,
  onDamaged: AuditListOptions['onDamaged'],
): Promise<StoredRepositoryAuditEntry | undefined> {
  try {
    if (size > MAX_AUDIT_OBJECT_BYTES) throw new CorruptDataError(`audit entry ${key} is ${size} bytes, more than an entry can be`, { object: key });
    const { version: _version, nonce: _nonce, ...entry } = decodeAuditEntry(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key, repo.keys.id);
    return { key, ...entry };
  } catch (err) {
    if (err instanceof NotFoundError) return undefined; // deleted while listed (by hand: snapfleet never deletes one)
    // Damage, or bytes that claim a newer version: either way not an entry this release can show.
    if (!(err instanceof CorruptDataError) && !(err instanceof PermanentError)) throw err;
    onDamaged?.(key, err);
    return undefined;
  }
}
