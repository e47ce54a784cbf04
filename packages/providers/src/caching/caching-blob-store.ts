/**
 * CachingBlobStore: a host-local, read-through cache of immutable objects (index objects by
 * default) in front of another store. Every archive, restore and verify reads every index
 * object; from S3 that is one GET each, thousands on a large repository. Index objects are
 * immutable and uniquely named, so the bytes fetched once are served from disk ever after, to
 * every process on the host that shares the folder.
 *
 * The cache only ever costs time, never data: a damaged file is caught by its checksum, removed
 * and fetched again; a failure of the cache itself (unwritable folder, full disk) is reported
 * once and the store goes on without it; removing the folder at any moment is safe.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { makeDirs } from '../local/make-dirs.js';
import { basename, dirname, join } from 'node:path';
import type { BlobData, BlobStore, ByteRange, ObjectInfo, PutOptions } from '@snapfleet/shared';
import { TEMP_PREFIX, cacheFilePath, decodeCacheFile, encodeCacheFile, keyOfCacheFile } from './cache-file.js';
import { DEFAULT_CACHED_PREFIXES, type CachingOptions } from './caching-options.js';

/** Random bytes in a temp file's name: concurrent writers on the host never pick the same one. */
const TEMP_NAME_RANDOM_BYTES = 8;
/**
 * Age at which a listing's sweep removes a temp file: a writer renames its temp file moments
 * after creating it, so one an hour old was left by a process killed while writing.
 */
const STALE_TEMP_MS = 60 * 60 * 1000;
/**
 * How much older than a listing's start a cache file must be dated for its sweep to remove it.
 * File times come from the kernel's coarse clock, up to a tick behind Date.now(), and some file
 * systems keep whole seconds (ext3, HFS+) or two (FAT): a file written just after the listing
 * began, of an object the listing missed, can be dated before it. Sweeping it would cost that
 * object a fetch; the margin only leaves the files of objects deleted moments before a listing
 * to the next one.
 */
const FILE_TIME_SLACK_MS = 2_000;
/** Cache files hold repository metadata: readable by the owner only, like the folder store's. */
const FILE_MODE = 0o600;
const FOLDER_MODE = 0o700;

export class CachingBlobStore implements BlobStore {
  readonly location: string;
  /** The inner store's, when it has one: ranged reads are never cached. */
  readonly getInto?: (key: string, range: ByteRange, into: Uint8Array) => Promise<Uint8Array>;
  readonly sweepIncomplete?: (before: Date) => Promise<{ count: number; bytes: number }>;
  private readonly dir: string;
  private readonly prefixes: readonly string[];
  private readonly warn: (message: string) => void;
  /** Set by the first failure of the cache itself: from then on every call passes through. */
  private disabled = false;

  constructor(
    readonly inner: BlobStore,
    options: CachingOptions,
  ) {
    this.location = inner.location;
    this.dir = options.dir;
    this.prefixes = options.prefixes ?? DEFAULT_CACHED_PREFIXES;
    this.warn = options.onWarning ?? (() => {});
    if (inner.getInto) this.getInto = inner.getInto.bind(inner);
    if (inner.sweepIncomplete) this.sweepIncomplete = inner.sweepIncomplete.bind(inner);
  }

  /** Stores in the inner store first; the cache copy after it is best effort. */
  async put(key: string, data: BlobData, options?: PutOptions): Promise<void> {
    await this.inner.put(key, data, options);
    const file = this.fileOf(key);
    if (file) await this.store(key, file, data);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const file = range ? undefined : this.fileOf(key);
    if (!file) return this.inner.get(key, range);
    const cached = await this.load(key, file);
    if (cached) return cached;
    const data = await this.inner.get(key);
    await this.store(key, file, data);
    return data;
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(key);
  }

  /**
   * Passes the listing through. When a listing that covers a cached prefix runs to its end, the
   * cache files of that prefix it did not return are objects deleted since (by prune or
   * compaction, perhaps on another host): those written before the listing started are
   * removed. Younger ones may be objects put after the listing began, and stay (and so do those
   * dated less than FILE_TIME_SLACK_MS before it).
   */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const swept = this.disabled ? [] : this.prefixes.filter((p) => p.startsWith(prefix));
    if (swept.length === 0) {
      yield* this.inner.list(prefix);
      return;
    }
    const startedMs = Date.now();
    const listed = new Set<string>();
    for await (const info of this.inner.list(prefix)) {
      if (swept.some((p) => info.key.startsWith(p))) listed.add(info.key);
      yield info;
    }
    await this.sweep(swept, listed, startedMs);
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    const file = this.fileOf(key);
    if (file) await this.remove(file);
  }

  /** The cache file of `key`, or undefined when it is not cached. */
  private fileOf(key: string): string | undefined {
    if (this.disabled || !this.prefixes.some((p) => key.startsWith(p))) return undefined;
    const relative = cacheFilePath(key);
    return relative === undefined ? undefined : join(this.dir, ...relative.split('/'));
  }

  /** The cached bytes of `key`, or undefined: not cached, damaged (then removed), or unreadable. */
  private async load(key: string, file: string): Promise<Uint8Array | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') this.fail(err);
      return undefined;
    }
    const data = decodeCacheFile(key, bytes);
    if (data) return data;
    this.warn(`cache file ${file} is damaged (its checksum does not match): removed; ${key} is read from ${this.location} again`);
    await this.remove(file);
    return undefined;
  }

  /** Writes a temp file and renames it into place: no reader ever sees part of a cache file. */
  private async store(key: string, file: string, data: BlobData): Promise<void> {
    const parts = encodeCacheFile(key, data);
    const folder = dirname(file);
    for (let attempt = 1; ; attempt++) {
      const temp = join(folder, `${TEMP_PREFIX}${basename(file)}.${randomBytes(TEMP_NAME_RANDOM_BYTES).toString('hex')}`);
      try {
        await writeFile(temp, parts, { flag: 'wx', mode: FILE_MODE });
        await rename(temp, file);
        return;
      } catch (err) {
        await unlink(temp).catch(() => {});
        if (errorCode(err) !== 'ENOENT') return this.fail(err);
        // No folder: the first write, or the cache was removed. Create it and try once more; if
        // it is removed again meanwhile, this object just stays uncached.
        if (attempt > 1) return;
      }
      try {
        await makeDirs(folder, FOLDER_MODE);
      } catch (err) {
        return this.fail(err);
      }
    }
  }

  private async remove(file: string): Promise<void> {
    try {
      await unlink(file);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') this.fail(err);
    }
  }

  /** Removes cache files of `prefixes` that `listed` lacks and stale temp files (see list). */
  private async sweep(prefixes: readonly string[], listed: ReadonlySet<string>, startedMs: number): Promise<void> {
    try {
      for (const folder of await entries(this.dir, ['ENOENT'])) {
        const path = join(this.dir, folder);
        // A file among the folders is not the cache's: leave it be.
        for (const name of await entries(path, ['ENOENT', 'ENOTDIR'])) {
          const key = keyOfCacheFile(folder, name);
          if (name.startsWith(TEMP_PREFIX)) await removeIfOlder(join(path, name), startedMs - STALE_TEMP_MS);
          else if (key !== undefined && !listed.has(key) && prefixes.some((p) => key.startsWith(p)))
            await removeIfOlder(join(path, name), startedMs - FILE_TIME_SLACK_MS);
        }
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Reports the cache unusable, once, and turns it off for the rest of this store's life. */
  private fail(err: unknown): void {
    if (this.disabled) return;
    this.disabled = true;
    this.warn(`cache ${this.dir} cannot be used (${(err as Error).message}); reading ${this.location} without it`);
  }
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

async function entries(dir: string, absent: readonly string[]): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (absent.includes(errorCode(err) ?? '')) return [];
    throw err;
  }
}

async function removeIfOlder(path: string, beforeMs: number): Promise<void> {
  try {
    if ((await stat(path)).mtimeMs < beforeMs) await unlink(path);
  } catch (err) {
    // Removed or renamed over by another process meanwhile.
    if (errorCode(err) !== 'ENOENT') throw err;
  }
}
