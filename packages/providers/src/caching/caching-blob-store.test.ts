import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, type BlobStore, type ObjectInfo } from '@snapfleet/shared';
import { FaultyBlobStore, MemoryBlobStore, describeBlobStoreConformance, randomData, sha256Hex } from '@snapfleet/shared/testing';
import { FolderBlobStore } from '../local/folder-blob-store.js';
import { CACHE_HEADER_BYTES } from './cache-file.js';
import { CachingBlobStore } from './caching-blob-store.js';

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'snapfleet-cache-'));
}

// The conformance keys (config, many/…, a/b/…) are cached too with the prefix '', so the suite
// runs through the cache's put, get, list and delete paths, not around them.
for (const [name, prefixes] of [
  ['every key cached', ['']],
  ['index/ cached', undefined],
] as const) {
  describeBlobStoreConformance(`CachingBlobStore over MemoryBlobStore (${name})`, async () => {
    const root = await tempRoot();
    const store = new CachingBlobStore(new MemoryBlobStore(), { dir: join(root, 'cache'), ...(prefixes ? { prefixes } : {}) });
    return { store, cleanup: () => rm(root, { recursive: true, force: true }) };
  });
}

describeBlobStoreConformance('CachingBlobStore over FolderBlobStore (every key cached)', async () => {
  const root = await tempRoot();
  const store = new CachingBlobStore(new FolderBlobStore(join(root, 'repo')), { dir: join(root, 'cache'), prefixes: [''] });
  return { store, cleanup: () => rm(root, { recursive: true, force: true }) };
});

const indexKey = (): string => `index/${randomBytes(32).toString('hex')}`;

async function collect(items: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of items) out.push(item.key);
  return out.sort();
}

/** A cache over a call-counting in-memory store, with the warnings it gave. */
interface Fixture {
  root: string;
  dir: string;
  inner: FaultyBlobStore;
  warnings: string[];
  open(dir?: string): CachingBlobStore;
}

function withCache(test: (f: Fixture) => Promise<void>): () => Promise<void> {
  return async () => {
    const root = await tempRoot();
    const inner = new FaultyBlobStore(new MemoryBlobStore());
    const warnings: string[] = [];
    const dir = join(root, 'cache');
    const open = (at = dir) => new CachingBlobStore(inner, { dir: at, onWarning: (m) => warnings.push(m) });
    try {
      await test({ root, dir, inner, warnings, open });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  };
}

describe('CachingBlobStore', () => {
  it(
    'serves an index object from the host cache after the first get, to other instances too',
    withCache(async ({ dir, inner, warnings, open }) => {
      const key = indexKey();
      const data = randomData(5000);
      await inner.put(key, data);
      const first = open();
      expect(first.location).toBe(inner.location);
      expect(sha256Hex(await first.get(key))).toBe(sha256Hex(data));
      expect(inner.calls.get).toBe(1);
      const again = await first.get(key);
      expect(sha256Hex(again)).toBe(sha256Hex(data));
      expect(again.constructor).toBe(Uint8Array);
      // Another process on the host: a new instance over the same folder.
      expect(sha256Hex(await open().get(key))).toBe(sha256Hex(data));
      expect(inner.calls.get).toBe(1);
      // The file holds the stored bytes as they are, after a checksum header.
      const file = await readFile(join(dir, key));
      expect(Buffer.compare(file.subarray(CACHE_HEADER_BYTES), data)).toBe(0);
      expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
      expect(await readdir(join(dir, 'index'))).toEqual([key.slice('index/'.length)]);
      expect(warnings).toEqual([]);
    }),
  );

  it(
    'passes ranged reads, stat and other prefixes through',
    withCache(async ({ dir, inner, open }) => {
      const store = open();
      const key = indexKey();
      const data = randomData(100);
      await store.put(key, data);
      await store.put('data/ab/pack', data);
      expect(await store.get(key, { offset: 10, length: 5 })).toEqual(data.subarray(10, 15));
      await store.get('data/ab/pack');
      await store.get('data/ab/pack');
      expect(inner.calls.get).toBe(3);
      expect(await store.stat(key)).toEqual({ key, size: 100 });
      // FaultyBlobStore reads with get only, and so does the cache over it.
      expect(store.getInto).toBeUndefined();
      expect(new CachingBlobStore(new MemoryBlobStore(), { dir }).getInto).toBeDefined();
      expect(await readdir(dir)).toEqual(['index']);
      // A put under the cached prefix filled the cache: no get for it reached the store.
      expect(sha256Hex(await store.get(key))).toBe(sha256Hex(data));
      expect(inner.calls.get).toBe(3);
    }),
  );

  it(
    'caches foreign keys under safe file names, and long ones not at all',
    withCache(async ({ dir, inner, open }) => {
      const store = open();
      const keys = ['index/README.md', 'index/..', `index/${'A'.repeat(64)}`];
      const long = `index/${'x'.repeat(200)}`;
      for (const key of [...keys, long]) await inner.put(key, new TextEncoder().encode(key));
      for (const key of [...keys, ...keys, long, long]) expect(new TextDecoder().decode(await store.get(key))).toBe(key);
      expect(inner.calls.get).toBe(keys.length + 2);
      expect(await readdir(dir)).toEqual(['_hex']);
      expect((await readdir(join(dir, '_hex'))).every((name) => /^[0-9a-f]+$/.test(name))).toBe(true);
    }),
  );

  it.each([
    [
      'a flipped byte',
      async (file: string) => {
        const bytes = await readFile(file);
        bytes[bytes.length - 7]! ^= 0x40;
        await writeFile(file, bytes);
      },
    ],
    ['a truncated file', async (file: string) => truncate(file, CACHE_HEADER_BYTES + 1000)],
    ['a file shorter than its header', async (file: string) => truncate(file, 10)],
    ['an empty file', async (file: string) => truncate(file, 0)],
  ])('detects %s, warns naming the file, and fetches the object again', (_what, damage) =>
    withCache(async ({ dir, inner, warnings, open }) => {
      const store = open();
      const key = indexKey();
      const data = randomData(4000);
      await inner.put(key, data);
      await store.get(key);
      const file = join(dir, key);
      await damage(file);
      expect(sha256Hex(await store.get(key))).toBe(sha256Hex(data));
      expect(inner.calls.get).toBe(2);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(file);
      expect(warnings[0]).toContain('damaged');
      // Written again, whole: the next get is served from it.
      expect(sha256Hex(await store.get(key))).toBe(sha256Hex(data));
      expect(inner.calls.get).toBe(2);
      expect(await readdir(join(dir, 'index'))).toEqual([key.slice('index/'.length)]);
    })(),
  );

  it(
    "does not serve a cache file under another key's name",
    withCache(async ({ dir, inner, warnings, open }) => {
      const store = open();
      const [a, b] = [indexKey(), indexKey()];
      await store.put(a, randomData(100));
      await store.put(b, randomData(100));
      await writeFile(join(dir, b), await readFile(join(dir, a)));
      expect(sha256Hex(await store.get(b))).toBe(sha256Hex(await inner.get(b)));
      expect(warnings.join('\n')).toContain(join(dir, b));
    }),
  );

  it(
    'rebuilds a cache folder removed while in use',
    withCache(async ({ dir, inner, warnings, open }) => {
      const store = open();
      const key = indexKey();
      await inner.put(key, randomData(300));
      await store.get(key);
      await rm(dir, { recursive: true, force: true });
      await store.get(key);
      await store.get(key);
      expect(inner.calls.get).toBe(2);
      expect(await readdir(join(dir, 'index'))).toEqual([key.slice('index/'.length)]);
      expect(warnings).toEqual([]);
    }),
  );

  it(
    'goes on without the cache, warning once, when its folder cannot be used',
    withCache(async ({ root, inner, warnings, open }) => {
      // A file where the folder should be: every cache operation fails (ENOTDIR), as EACCES or a
      // full disk would (tests may run as root, which permissions do not stop).
      const blocked = join(root, 'blocked');
      await writeFile(blocked, 'not a folder');
      const store = open(blocked);
      const keys = [indexKey(), indexKey()];
      for (const key of keys) await store.put(key, randomData(200));
      for (const key of [...keys, ...keys]) expect(sha256Hex(await store.get(key))).toBe(sha256Hex(await inner.inner.get(key)));
      expect(await collect(store.list('index/'))).toEqual([...keys].sort());
      await store.delete(keys[0]!);
      await expect(store.get(keys[0]!)).rejects.toBeInstanceOf(NotFoundError);
      expect(inner.calls.get).toBe(5);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(blocked);
      expect(warnings[0]).toContain('ENOTDIR');
    }),
  );

  it(
    'drops the cached copy of a deleted object',
    withCache(async ({ dir, open }) => {
      const store = open();
      const key = indexKey();
      await store.put(key, randomData(10));
      await store.delete(key);
      await expect(store.get(key)).rejects.toBeInstanceOf(NotFoundError);
      expect(await readdir(join(dir, 'index'))).toEqual([]);
    }),
  );

  it(
    'lets several instances race to fill the same entries',
    withCache(async ({ dir, inner, open }) => {
      const keys = Array.from({ length: 8 }, indexKey);
      const data = new Map(keys.map((k) => [k, randomData(20_000)]));
      for (const [k, d] of data) await inner.put(k, d);
      const stores = [open(), open(), open()];
      const reads = await Promise.all(stores.flatMap((s) => keys.map(async (k) => [k, sha256Hex(await s.get(k))] as const)));
      for (const [k, hash] of reads) expect(hash).toBe(sha256Hex(data.get(k)!));
      // Every entry whole, no temp file left behind.
      expect((await readdir(join(dir, 'index'))).sort()).toEqual(keys.map((k) => k.slice('index/'.length)).sort());
      const before = inner.calls.get;
      for (const k of keys) expect(sha256Hex(await open().get(k))).toBe(sha256Hex(data.get(k)!));
      expect(inner.calls.get).toBe(before);
    }),
  );

  describe('listing sweep', () => {
    const HOUR_S = 3600;
    const setAge = (path: string, seconds: number) => utimes(path, new Date(Date.now() - seconds * 1000), new Date(Date.now() - seconds * 1000));

    /** Three cached objects; the first two deleted by "another host" (on the inner store only). */
    async function staleCache(f: Fixture): Promise<{ store: BlobStore; kept: string; gone: string[] }> {
      const store = f.open();
      const keys = [indexKey(), indexKey(), indexKey()];
      for (const key of keys) await store.put(key, randomData(50));
      for (const key of keys) await setAge(join(f.dir, key), HOUR_S);
      await f.inner.inner.delete(keys[0]!);
      await f.inner.inner.delete(keys[1]!);
      return { store, kept: keys[2]!, gone: [keys[0]!, keys[1]!] };
    }
    const cachedKeys = async (dir: string) => (await readdir(join(dir, 'index'))).map((n) => `index/${n}`).sort();

    it(
      'removes the entries of objects a complete listing no longer returns',
      withCache(async (f) => {
        const { store, kept } = await staleCache(f);
        // A foreign file in the cache folder is left alone.
        await writeFile(join(f.dir, 'index', 'notes'), 'x');
        await setAge(join(f.dir, 'index', 'notes'), HOUR_S);
        expect(await collect(store.list('index/'))).toEqual([kept]);
        expect(await cachedKeys(f.dir)).toEqual([kept, 'index/notes'].sort());
        expect(f.warnings).toEqual([]);
      }),
    );

    it(
      'sweeps on a listing of a parent prefix too',
      withCache(async (f) => {
        const { store, kept } = await staleCache(f);
        await collect(store.list(''));
        expect(await cachedKeys(f.dir)).toEqual([kept]);
      }),
    );

    it(
      'keeps entries written after the listing began, and sweeps nothing on a partial listing',
      withCache(async (f) => {
        const { store, kept, gone } = await staleCache(f);
        // Written "during" the listing by another process on the host: younger than its start.
        const future = new Date(Date.now() + HOUR_S * 1000);
        await utimes(join(f.dir, gone[0]!), future, future);
        for await (const _ of store.list('index/')) break;
        await collect(store.list('index/0'));
        expect(await cachedKeys(f.dir)).toEqual([...gone, kept].sort());
        await collect(store.list('index/'));
        expect(await cachedKeys(f.dir)).toEqual([gone[0]!, kept].sort());
      }),
    );

    it(
      'keeps an entry written after the listing began that the file system dates before it',
      withCache(async (f) => {
        const other = f.open();
        let written = '';
        // The listing has passed by when another process on the host puts an object; its cache
        // file is dated as a file system that keeps whole seconds (or a coarse clock, a tick
        // behind Date.now()) may: before the listing began.
        const listing: BlobStore = {
          location: f.inner.location,
          put: (key, data) => f.inner.put(key, data),
          get: (key, range) => f.inner.get(key, range),
          stat: (key) => f.inner.stat(key),
          delete: (key) => f.inner.delete(key),
          async *list(prefix) {
            const began = Date.now();
            yield* f.inner.list(prefix);
            written = indexKey();
            await other.put(written, randomData(50));
            const dated = new Date(began - 500);
            await utimes(join(f.dir, written), dated, dated);
          },
        };
        await collect(new CachingBlobStore(listing, { dir: f.dir }).list('index/'));
        expect(await cachedKeys(f.dir)).toEqual([written]);
        const before = f.inner.calls.get;
        await f.open().get(written);
        expect(f.inner.calls.get).toBe(before);
      }),
    );

    it(
      'removes temp files that writers killed mid-write left, but not fresh ones',
      withCache(async (f) => {
        const { store } = await staleCache(f);
        const [old, fresh] = ['.tmp-aa.0000000000000000', '.tmp-bb.1111111111111111'];
        await writeFile(join(f.dir, 'index', old), 'partial');
        await writeFile(join(f.dir, 'index', fresh), 'partial');
        await setAge(join(f.dir, 'index', old), 2 * HOUR_S);
        await collect(store.list('index/'));
        expect((await readdir(join(f.dir, 'index'))).filter((n) => n.startsWith('.tmp-'))).toEqual([fresh]);
      }),
    );
  });
});
