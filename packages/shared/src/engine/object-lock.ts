/**
 * S3 Object Lock for a repository (docs/format.md, "Object Lock"). A locked repository writes
 * the objects that hold its data (packs, snapshots, key files, config) with a retention date,
 * so that credentials which can write the bucket cannot destroy what is already in it. The
 * objects that coordinate writers (leases, deletion markers) and the ones that can be rebuilt
 * from packs (index objects, pack and layout lists) carry none: the protocol must delete them
 * on time, and losing them costs speed, never data.
 *
 * `ObjectLockStore` wraps the repository's store: puts of locked objects get their retention,
 * and deleting a locked object before its date fails with RetainedObjectError instead of
 * reaching the bucket (where, versioned, it would only hide the object behind a delete marker).
 */
import { InvalidInputError, NotFoundError, RetainedObjectError } from '../errors.js';
import type { BlobData, BlobStore, ByteRange, ObjectInfo, ObjectRetention, PutOptions } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';
import type { RepoConfig } from '../format/repo-config.js';
import { CONFIG_KEY, DATA_PREFIX, KEYS_PREFIX, SNAPSHOTS_PREFIX, packKey } from '../format/layout.js';
import { AUDIT_PREFIX } from '../format/audit-entry.js';
import { mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';

export type ObjectLockConfig = NonNullable<RepoConfig['objectLock']>;

const DAY_MS = 24 * 3600_000;

/**
 * Whether the object at `key` is written under retention in a locked repository. Audit entries
 * are too: credentials that can write the bucket must not be able to erase the record of what
 * was done with them. Nothing extends their retention; nothing in snapfleet deletes them either.
 */
export function isLockedKey(key: string): boolean {
  return key === CONFIG_KEY || key.startsWith(DATA_PREFIX) || key.startsWith(SNAPSHOTS_PREFIX) || key.startsWith(KEYS_PREFIX) || key.startsWith(AUDIT_PREFIX);
}

/** The retention an object written or extended at `now` gets. */
export function retentionAt(lock: ObjectLockConfig, now: Date): ObjectRetention {
  return { mode: lock.mode, until: new Date(now.getTime() + lock.days * DAY_MS) };
}

/** Fails unless `store` can keep retention; `lock` is the repository's (or the one init asks for). */
export function requireRetentionSupport(store: BlobStore, lock: ObjectLockConfig): void {
  if (!store.extendRetention) {
    throw new InvalidInputError(
      `${store.location} cannot keep objects under retention, and the repository requires Object Lock (${lock.mode.toLowerCase()}, ${lock.days} days): use an S3 bucket with Object Lock enabled`,
      'object-lock',
    );
  }
}

export class ObjectLockStore implements BlobStore {
  readonly location: string;
  readonly getInto?: BlobStore['getInto'];
  readonly sweepIncomplete?: BlobStore['sweepIncomplete'];

  constructor(
    readonly inner: BlobStore,
    readonly lock: ObjectLockConfig,
    private readonly clock: Clock,
  ) {
    requireRetentionSupport(inner, lock);
    this.location = inner.location;
    if (inner.getInto) this.getInto = inner.getInto.bind(inner);
    if (inner.sweepIncomplete) this.sweepIncomplete = inner.sweepIncomplete.bind(inner);
  }

  put(key: string, data: BlobData, options: PutOptions = {}): Promise<void> {
    if (!isLockedKey(key)) return this.inner.put(key, data, options);
    return this.inner.put(key, data, { ...options, retention: retentionAt(this.lock, this.clock.now()) });
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.inner.get(key, range);
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(key);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  /** Deletes, unless the object is locked and its retention has not passed (RetainedObjectError). */
  async delete(key: string): Promise<void> {
    if (isLockedKey(key)) {
      const until = await this.retainedUntil(key);
      if (until) throw new RetainedObjectError(`${key} is under Object Lock retention until ${until.toISOString()}: not deleted`, key, until);
    }
    await this.inner.delete(key);
  }

  extendRetention(key: string, retention: ObjectRetention): Promise<void> {
    return this.inner.extendRetention!(key, retention);
  }

  checkObjectLock(): Promise<void> {
    return this.inner.checkObjectLock?.() ?? Promise.resolve();
  }

  /** The object's retention date when it has not passed yet; undefined when it may be deleted (or is gone). */
  async retainedUntil(key: string): Promise<Date | undefined> {
    const info = await this.inner.stat(key);
    const until = info?.retainUntil;
    return until && until.getTime() > this.clock.now().getTime() ? until : undefined;
  }

  /** Gives the object the repository's retention from now on (never shortening it). */
  async extend(key: string): Promise<void> {
    await this.inner.extendRetention!(key, retentionAt(this.lock, this.clock.now()));
  }
}

/** The store's Object Lock wrapper, when the repository is locked. */
export function objectLockOf(store: BlobStore): ObjectLockStore | undefined {
  return store instanceof ObjectLockStore ? store : undefined;
}

export interface RetentionReport {
  /** Objects whose retention this run extended. */
  extended: number;
  /** Their new retention date. */
  until: string;
}

/**
 * Extends the retention of what is still live: the packs given (those holding blobs a snapshot
 * needs: a snapshot taken today may point into a pack written a year ago), every key file and
 * the config. Garbage (packs no snapshot needs) is left to run out. Snapshot objects keep the
 * retention they were written with: each is immutable for the repository's days after it was
 * taken, and forget can remove it after that (extending them would make every snapshot
 * unforgettable while prune runs). One request per object; run by prune, which has just
 * computed what is live.
 */
export async function extendLiveRetention(lock: ObjectLockStore, livePacks: readonly string[], clock: Clock): Promise<RetentionReport> {
  const keys = livePacks.map(packKey);
  for await (const o of lock.list(KEYS_PREFIX)) keys.push(o.key);
  keys.push(CONFIG_KEY);
  const retention = retentionAt(lock.lock, clock.now());
  let extended = 0;
  await mapLimit(keys, METADATA_READS_IN_FLIGHT, async (key) => {
    try {
      await lock.extendRetention(key, retention);
      extended++;
    } catch (err) {
      // Forgotten (a snapshot) or removed (a key file) since it was listed: nothing to keep.
      if (!(err instanceof NotFoundError)) throw err;
    }
  });
  return { extended, until: retention.until.toISOString() };
}
