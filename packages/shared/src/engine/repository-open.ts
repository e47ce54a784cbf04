/**
 * Creating a repository (`initRepository`) and opening one (`openRepository`): the config, the
 * key files, and the store wrapper a locked repository is opened over (object-lock.ts).
 */
import { randomBytes } from 'node:crypto';
import type { BlobStore, PackStorageClass } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';
import type { DedupIndexCache } from '../ports/dedup-index.js';
import { InvalidInputError, NotFoundError, CorruptDataError, PermanentError, WrongPasswordError } from '../errors.js';
import { Encryption, FORMAT_VERSION, OLDEST_FORMAT_VERSION } from '../format/codec-ids.js';
import { CONFIG_KEY, KEYS_PREFIX, keyFileKey } from '../format/layout.js';
import { DEFAULT_CHUNK_SIZE, encodeConfig, isValidChunkSize, parseConfig, type RepoConfig } from '../format/repo-config.js';
import { generateMasterKeys, masterKeysFrom, parseKeyFile, unwrapMasterKeys, wrapMasterKeys, type KeyFileOrigin } from '../format/master-keys.js';
import { collect } from '../content/map-limit.js';
import { ObjectLockStore, requireRetentionSupport, type ObjectLockConfig } from './object-lock.js';
import { Repository } from './repository.js';

export interface InitOptions {
  /** Required unless `encrypted` is false. */
  password?: string;
  encrypted: boolean;
  chunkSize?: number;
  /**
   * The format version to write. Version 1 (flat snapshot keys) keeps the repository usable by
   * snapfleet releases older than format 2; `migrate` upgrades it later.
   * @defaultValue FORMAT_VERSION
   */
  formatVersion?: number;
  /** Recorded in the first key file, in the clear (`snapfleet key list`). */
  keyOrigin?: KeyFileOrigin;
  /** The storage class packs are written in (S3); index, snapshots and the rest stay in the default. */
  packStorageClass?: PackStorageClass;
  /** S3 Object Lock: the retention packs, snapshots, key files and the config are written with. */
  objectLock?: ObjectLockConfig;
  /** The time retention dates count from: required with `objectLock`. */
  clock?: Clock;
  /**
   * Take this repository's id key (and its chunk size) instead of new ones, so that snapshots
   * copy between the two as they are (engine/copy.ts). The encryption key stays new.
   */
  copyIdKeyFrom?: Repository;
}

export interface OpenOptions {
  password?: string;
  /**
   * The host's index table (ports/dedup-index.ts): archives look blobs up there instead of
   * loading the index into memory. Without it they load the index.
   */
  dedupCache?: DedupIndexCache;
  /** The time Object Lock retention dates count from: a locked repository opens only with one. */
  clock?: Clock;
}

export async function initRepository(store: BlobStore, options: InitOptions): Promise<Repository> {
  const donor = options.copyIdKeyFrom;
  if (donor && options.chunkSize !== undefined && options.chunkSize !== donor.chunkSize) {
    throw new InvalidInputError(
      `chunk size ${options.chunkSize} differs from the ${donor.chunkSize} of ${donor.store.location}, whose id key this repository shares`,
      'chunkSize',
    );
  }
  const chunkSize = options.chunkSize ?? donor?.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!isValidChunkSize(chunkSize)) throw new InvalidInputError(`chunk size ${chunkSize} must be a power of two from 4096 to 4194304`, 'chunkSize');
  const version = options.formatVersion ?? FORMAT_VERSION;
  if (!Number.isInteger(version) || version < OLDEST_FORMAT_VERSION || version > FORMAT_VERSION) {
    throw new InvalidInputError(`format version ${version} must be from ${OLDEST_FORMAT_VERSION} to ${FORMAT_VERSION}`, 'formatVersion');
  }
  if (options.objectLock) {
    // Format 1 moves snapshot objects when migrated, which retention would forbid.
    if (version < FORMAT_VERSION) throw new InvalidInputError(`Object Lock needs format version ${FORMAT_VERSION}`, 'formatVersion');
    requireRetentionSupport(store, options.objectLock);
    await store.checkObjectLock?.();
  }
  if (await store.stat(CONFIG_KEY)) throw new InvalidInputError(`a repository already exists at ${store.location}`, 'repo');
  const fresh = generateMasterKeys(options.encrypted);
  const keys = donor ? masterKeysFrom(fresh.encRaw, donor.keys.idRaw) : fresh;
  const config: RepoConfig = {
    version,
    id: randomBytes(16).toString('hex'),
    encryption: options.encrypted ? Encryption.Aes256Gcm : Encryption.None,
    chunkSize,
    ...(options.encrypted ? {} : { idKey: Buffer.from(keys.idRaw).toString('base64') }),
    ...(options.packStorageClass ? { packStorageClass: options.packStorageClass } : {}),
    ...(options.objectLock ? { objectLock: options.objectLock } : {}),
  };
  // Locked from the first object on: the key file and the config get their retention too.
  if (config.objectLock) store = new ObjectLockStore(store, config.objectLock, lockClock(options.clock, store));
  let keyFileId: string | undefined;
  if (options.encrypted) {
    if (!options.password) throw new InvalidInputError('an encrypted repository needs a password (or choose no encryption)', 'password');
    const keyFile = await wrapMasterKeys(keys, options.password, options.keyOrigin);
    keyFileId = randomBytes(32).toString('hex');
    await store.put(keyFileKey(keyFileId), Buffer.from(JSON.stringify(keyFile, null, 2)));
  }
  // config last: a repository exists once its config does, and by then its key is in place.
  await store.put(CONFIG_KEY, encodeConfig(config));
  const repo = new Repository(store, config, keys);
  repo.keyFileId = keyFileId;
  return repo;
}

export async function openRepository(store: BlobStore, options: OpenOptions = {}): Promise<Repository> {
  let configBytes: Uint8Array;
  try {
    configBytes = await store.get(CONFIG_KEY);
  } catch (err) {
    if (err instanceof NotFoundError)
      throw new NotFoundError(`no snapfleet repository at ${store.location} (no config object); create one with snapfleet init`);
    throw err;
  }
  const config = parseConfig(configBytes);
  if (config.objectLock) store = new ObjectLockStore(store, config.objectLock, lockClock(options.clock, store));
  if (config.encryption === Encryption.None)
    return new Repository(store, config, masterKeysFrom(undefined, Buffer.from(config.idKey!, 'base64')), options.dedupCache);
  if (!options.password) throw new InvalidInputError(`repository ${store.location} is encrypted: give a password`, 'password');
  const keyObjects = await collect(store.list(KEYS_PREFIX));
  if (keyObjects.length === 0) throw new CorruptDataError(`repository ${store.location} is encrypted but has no key files`);
  const damaged: CorruptDataError[] = [];
  let lastError: unknown;
  for (const o of keyObjects) {
    try {
      const keys = await unwrapMasterKeys(parseKeyFile(await store.get(o.key), o.key), options.password);
      const repo = new Repository(store, config, keys, options.dedupCache);
      repo.keyFileId = o.key.slice(KEYS_PREFIX.length);
      return repo;
    } catch (err) {
      if (err instanceof CorruptDataError) damaged.push(err);
      lastError = err;
    }
  }
  // Every key file damaged: that is damage, not a wrong password. Some damaged: the password
  // fits none of the others, and the message says which files could not be tried.
  if (damaged.length === keyObjects.length) throw damaged[0]!;
  if (damaged.length > 0 && lastError instanceof WrongPasswordError) {
    throw new WrongPasswordError(`${lastError.message} (${damaged.map((d) => d.message).join('; ')}: not tried)`);
  }
  throw lastError;
}

/** A locked repository's clock: its retention dates are computed from it. */
function lockClock(clock: Clock | undefined, store: BlobStore): Clock {
  if (!clock) throw new PermanentError(`repository ${store.location} is under Object Lock: open it with a clock`);
  return clock;
}
