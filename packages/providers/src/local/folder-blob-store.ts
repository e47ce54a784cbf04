/**
 * FolderBlobStore: a repository in a local folder (the embedded default, or an NFS mount). Keys
 * map to nested paths. A put is atomic and durable: write a uniquely named temp file beside the
 * destination, fsync it, rename it into place, then fsync the directory so the rename survives
 * a crash. Readers therefore see the old object or the new one, never a prefix.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { makeDirs } from './make-dirs.js';
import { basename, dirname, join, resolve } from 'node:path';
import {
  DATA_PREFIX,
  InvalidInputError,
  isSnapfleetError,
  NotFoundError,
  type BlobData,
  type BlobStore,
  type ByteRange,
  type ObjectInfo,
} from '@snapfleet/shared';
import { validateBlobKey, validateListPrefix } from '../blob-key.js';
import { syncDirectory, writeDurably } from './durable-fs.js';
import { errorCode, translateFsError } from './fs-errors.js';
import { readFully } from './positional-io.js';
import { ReadHandles } from './read-handles.js';

/** Temp files start with a dot: valid keys never do, so listings can skip them by name. */
const TEMP_PREFIX = '.tmp-';
/** Owner-only, as restic's local backend does: unencrypted repositories hold whole disks. */
const OBJECT_FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;
/** 8 random bytes: two writers of one key in one directory never pick the same temp name. */
const TEMP_NAME_RANDOM_BYTES = 8;

export class FolderBlobStore implements BlobStore {
  readonly location: string;
  private readonly root: string;
  private readonly directIo: boolean;
  private readonly packHandles = new ReadHandles();

  /**
   * `directIo`: write packs around the page cache where the file system allows (direct-io.ts).
   * Off by default: see docs/architecture.md for the measurements on either side.
   */
  constructor(root: string, options: { directIo?: boolean } = {}) {
    if (root.length === 0) throw new InvalidInputError('the repository folder path is empty', 'repo');
    this.root = resolve(root);
    this.location = this.root;
    this.directIo = options.directIo ?? false;
  }

  async put(key: string, data: BlobData): Promise<void> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    const temp = join(dir, `${TEMP_PREFIX}${basename(path)}.${randomBytes(TEMP_NAME_RANDOM_BYTES).toString('hex')}`);
    try {
      await makeDirs(dir, DIRECTORY_MODE);
      await writeDurably(temp, data, OBJECT_FILE_MODE, this.directIo);
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw translateFsError(err, 'put', path);
    }
    await syncDirectory(dir).catch((err: unknown) => {
      throw translateFsError(err, 'fsync directory', dir);
    });
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    // Not zero-filled: the read fills every byte or throws, and zeroing a pack costs 2% of a restore.
    return this.read(key, range, (length) => new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length));
  }

  async getInto(key: string, range: ByteRange, into: Uint8Array): Promise<Uint8Array> {
    if (into.byteLength < range.length) throw new RangeError(`getInto: ${range.length} bytes do not fit in ${into.byteLength}`);
    return this.read(key, range, (length) => into.subarray(0, length));
  }

  private async read(key: string, range: ByteRange | undefined, memory: (length: number) => Uint8Array): Promise<Uint8Array> {
    const path = this.pathOf(key);
    // Ranged reads of packs (immutable) reuse open handles: a restore makes thousands.
    if (range && key.startsWith(DATA_PREFIX)) {
      try {
        return await this.packHandles.use(path, async (handle, size) => {
          checkRange(range.offset, range.length, size, key);
          const out = memory(range.length);
          await readFully(handle, out, range.offset);
          return out;
        });
      } catch (err) {
        throw isSnapfleetError(err) ? err : translateFsError(err, 'get', path);
      }
    }
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw translateFsError(err, 'get', path);
    }
    try {
      // One handle for stat and read: a concurrent rename cannot swap the object in between.
      const info = await handle.stat();
      if (!info.isFile()) throw new NotFoundError(`get: ${path} is not an object`);
      const { offset, length } = range ?? { offset: 0, length: info.size };
      checkRange(offset, length, info.size, key);
      const out = memory(length);
      await readFully(handle, out, offset);
      return out;
    } catch (err) {
      throw isSnapfleetError(err) ? err : translateFsError(err, 'get', path);
    } finally {
      await handle.close();
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      return info.isFile() ? { key, size: info.size } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw translateFsError(err, 'stat', path);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validateListPrefix(prefix);
    // Start at the deepest directory the prefix names completely; its last segment is a filter.
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    yield* this.walk(dirKey, prefix);
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    this.packHandles.forget(path);
    try {
      await unlink(path);
    } catch (err) {
      // Missing, or a directory (which is not an object): either way there is nothing to delete.
      if (isMissing(err) || errorCode(err) === 'EISDIR') return;
      throw translateFsError(err, 'delete', path);
    }
  }

  /** `.tmp-*` files older than `before`: what writers killed between write and rename left. */
  async sweepIncomplete(before: Date): Promise<{ count: number; bytes: number }> {
    const swept = { count: 0, bytes: 0 };
    const visit = async (dir: string): Promise<void> => {
      for (const entry of await entriesOf(dir)) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await visit(path);
        else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
          const info = await stat(path).catch(() => undefined); // renamed or removed meanwhile
          if (!info || info.mtimeMs >= before.getTime()) continue;
          await unlink(path).catch((err: unknown) => {
            if (!isMissing(err)) throw translateFsError(err, 'delete', path);
          });
          swept.count++;
          swept.bytes += info.size;
        }
      }
    };
    await visit(this.root);
    return swept;
  }

  private pathOf(key: string): string {
    validateBlobKey(key);
    return join(this.root, ...key.split('/'));
  }

  private async *walk(dirKey: string, prefix: string): AsyncIterable<ObjectInfo> {
    const dir = join(this.root, ...dirKey.split('/').filter(Boolean));
    for (const entry of await entriesOf(dir)) {
      if (entry.name.startsWith('.')) continue; // temp files and foreign dot-files are not objects
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        const childKey = `${key}/`;
        if (childKey.startsWith(prefix) || prefix.startsWith(childKey)) yield* this.walk(childKey, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await this.stat(key);
        if (info !== undefined) yield info; // deleted since readdir: skip, as the port allows
      }
    }
  }
}

function checkRange(offset: number, length: number, size: number, key: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new InvalidInputError(`invalid range ${offset}+${length} for ${key}`, 'range');
  }
  if (offset + length > size) {
    throw new InvalidInputError(`range ${offset}+${length} is past the end of ${key} (${size} bytes)`, 'range');
  }
}

/** The directory's entries; none when it does not exist (an empty repository, a removed prefix). */
async function entriesOf(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return [];
    throw translateFsError(err, 'list', dir);
  }
}

function isMissing(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
