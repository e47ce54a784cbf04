/**
 * Passwords of a repository (restic's `key` command). The master keys never change: each key file
 * (keys/<64 hex random>) wraps them under one password (format/master-keys.ts), so adding a
 * password writes one file, and removing one deletes one, without touching any data.
 *
 * The rule that keeps a repository openable: a process removes only key files other than the one
 * its own password opened, and only under the exclusive prune lease after checking that its own
 * key file is still there. Two holders of different passwords then cannot remove each other's
 * keys at once, and whatever runs, at least one key file (the remover's) is left. A password
 * change writes the new key file before it deletes the old one: killed between the two, both
 * passwords open the repository.
 */
import { randomBytes } from 'node:crypto';
import { KEYS_PREFIX, keyFileKey } from '../format/layout.js';
import { parseKeyFile, wrapMasterKeys, type KeyFileOrigin } from '../format/master-keys.js';
import { CorruptDataError, InvalidInputError, NotFoundError, RetainedObjectError } from '../errors.js';
import { collect } from '../content/map-limit.js';
import type { Clock } from '../ports/clock.js';
import { acquireExclusiveLease, type ExclusiveLeaseOptions } from './leases.js';
import { objectLockOf } from './object-lock.js';
import type { Repository } from './repository.js';

export interface KeyInfo extends KeyFileOrigin {
  id: string;
  /** The key file whose password opened this repository object. */
  current: boolean;
  /** Why the key file does not read, when it is damaged (`key remove` takes it away). */
  damaged?: string;
}

export interface KeyChangeOptions extends ExclusiveLeaseOptions {
  clock: Clock;
}

function keyIdOf(key: string): string {
  return key.slice(KEYS_PREFIX.length);
}

function requireEncrypted(repo: Repository): string {
  if (repo.keys.encRaw === undefined || repo.keyFileId === undefined) {
    throw new InvalidInputError(`repository ${repo.store.location} is not encrypted: it has no passwords to manage`, 'repo');
  }
  return repo.keyFileId;
}

/** The repository's key files, oldest first where they say when they were added. */
export async function listKeys(repo: Repository): Promise<KeyInfo[]> {
  const current = requireEncrypted(repo);
  const keys: KeyInfo[] = [];
  for (const { key } of await collect(repo.store.list(KEYS_PREFIX))) {
    let file;
    const id = keyIdOf(key);
    try {
      file = parseKeyFile(await repo.store.get(key), key);
    } catch (err) {
      if (err instanceof NotFoundError) continue; // removed meanwhile
      // Listed, so that `key remove` can be given its id.
      if (err instanceof CorruptDataError) {
        keys.push({ id, current: false, damaged: err.message });
        continue;
      }
      throw err;
    }
    keys.push({ id, current: id === current, ...pick(file) });
  }
  return keys.sort((a, b) => (a.created ?? '').localeCompare(b.created ?? '') || a.id.localeCompare(b.id));
}

function pick(o: KeyFileOrigin): KeyFileOrigin {
  return { ...(o.created ? { created: o.created } : {}), ...(o.hostname ? { hostname: o.hostname } : {}), ...(o.username ? { username: o.username } : {}) };
}

/** Adds a key file for `password`; returns its id. The repository opens with either password after. */
export async function addKey(repo: Repository, password: string, origin: KeyFileOrigin = {}): Promise<string> {
  requireEncrypted(repo);
  if (password.length === 0) throw new InvalidInputError('the new password is empty', 'new-password');
  const id = randomBytes(32).toString('hex');
  await repo.store.put(keyFileKey(id), Buffer.from(JSON.stringify(await wrapMasterKeys(repo.keys, password, origin), null, 2)));
  return id;
}

/**
 * Removes the key file `idPrefix` names (a unique prefix of its id). Refuses the key that opened
 * this repository object: give another password to remove it, or change it with changePassword.
 */
export async function removeKey(repo: Repository, idPrefix: string, options: KeyChangeOptions): Promise<string> {
  const current = requireEncrypted(repo);
  if (!/^[0-9a-f]{1,64}$/.test(idPrefix)) throw new InvalidInputError(`key id ${JSON.stringify(idPrefix)} is not a hex prefix of a key id`, 'key');
  const lease = await acquireExclusiveLease(repo, options.clock, 'prune', options);
  try {
    const ids = (await collect(repo.store.list(KEYS_PREFIX))).map((o) => keyIdOf(o.key));
    if (!ids.includes(current)) throw ownKeyGone(repo);
    const matches = ids.filter((id) => id.startsWith(idPrefix));
    if (matches.length === 0) throw new NotFoundError(`no key ${idPrefix} in ${repo.store.location}`);
    if (matches.length > 1) throw new InvalidInputError(`key prefix ${idPrefix} is ambiguous (${matches.length} keys)`, 'key');
    const id = matches[0]!;
    if (id === current) {
      throw new InvalidInputError(
        `key ${id.slice(0, 8)} is the one this password opened: open the repository with another password to remove it, or change it with \`snapfleet key passwd\``,
        'key',
      );
    }
    await repo.store.delete(keyFileKey(id));
    return id;
  } finally {
    await lease.release();
  }
}

/**
 * Replaces the key file that opened this repository object by one for `password`: the new file
 * is stored first, then the old one deleted. Returns the new key's id.
 */
export async function changePassword(repo: Repository, password: string, origin: KeyFileOrigin, options: KeyChangeOptions): Promise<string> {
  const current = requireEncrypted(repo);
  if (password.length === 0) throw new InvalidInputError('the new password is empty', 'new-password');
  const lease = await acquireExclusiveLease(repo, options.clock, 'prune', options);
  try {
    if (!(await repo.store.stat(keyFileKey(current)))) throw ownKeyGone(repo);
    // Under Object Lock the old file could not be deleted: refuse before adding the new one, so
    // that nothing is left half-changed.
    const until = await objectLockOf(repo.store)?.retainedUntil(keyFileKey(current));
    if (until) {
      throw new RetainedObjectError(
        `key ${current.slice(0, 8)} is under Object Lock retention until ${until.toISOString()}: its password cannot be changed before then; add another with \`snapfleet key add\``,
        keyFileKey(current),
        until,
      );
    }
    const id = await addKey(repo, password, origin);
    await repo.store.delete(keyFileKey(current));
    repo.keyFileId = id;
    return id;
  } finally {
    await lease.release();
  }
}

function ownKeyGone(repo: Repository): NotFoundError {
  return new NotFoundError(
    `the key this password opened was removed from ${repo.store.location} meanwhile: open the repository again with a password that still works`,
  );
}
