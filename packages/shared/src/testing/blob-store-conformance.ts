/**
 * The BlobStore conformance suite every adapter runs (restic `internal/backend/test`): it pins the
 * port's contract (atomic puts, ranged gets, complete listings, idempotent deletes) on real
 * servers, so the engine can rely on it whatever the store.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { BlobStore, ObjectInfo } from '../ports/blob-store.js';
import { mapLimit, randomData, sha256Hex } from './test-data.js';

export interface BlobStoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

export type BlobStoreFactory = () => Promise<BlobStoreFixture>;

export type BlobStoreConformanceCase = 'overwrite-atomicity';

export interface BlobStoreConformanceOptions {
  /** Cases a store cannot pass, each with the reason shown in the test report. */
  skip?: Partial<Record<BlobStoreConformanceCase, string>>;
}

const MiB = 1024 * 1024;
/** More than one S3 ListObjectsV2 page (at most 1,000 keys), so pagination must be followed. */
const MANY_OBJECTS = 1_100;
/** Enough in flight to make the 1,100 puts quick without swamping a test server. */
const PUT_CONCURRENCY = 32;
/** Larger than the S3 adapter's multipart threshold, so both upload paths are exercised. */
const ATOMICITY_OBJECT_BYTES = 20 * MiB;
const LARGE_OBJECT_BYTES = 40 * MiB;

export function describeBlobStoreConformance(name: string, factory: BlobStoreFactory, options: BlobStoreConformanceOptions = {}): void {
  const withStore = async (test: (store: BlobStore) => Promise<void>): Promise<void> => {
    const { store, cleanup } = await factory();
    try {
      await test(store);
    } finally {
      await cleanup();
    }
  };
  const skipReason = (name: BlobStoreConformanceCase): string | undefined => options.skip?.[name];

  describe(`BlobStore conformance: ${name}`, () => {
    it('round-trips a put through get, including an empty object', () =>
      withStore(async (store) => {
        const data = randomData(1000);
        await store.put('config', data);
        await store.put('empty', new Uint8Array(0));
        expect(sha256Hex(await store.get('config'))).toBe(sha256Hex(data));
        expect((await store.get('empty')).length).toBe(0);
      }));

    it('does not keep a reference to the caller buffer', () =>
      withStore(async (store) => {
        const data = randomData(64);
        const expected = sha256Hex(data);
        await store.put('owned', data);
        data.fill(0);
        expect(sha256Hex(await store.get('owned'))).toBe(expected);
      }));

    it('reads byte ranges, and rejects a range past the end', () =>
      withStore(async (store) => {
        const data = randomData(10_000);
        await store.put('ranged', data);
        for (const [offset, length] of [
          [0, 1],
          [1234, 5000],
          [9_990, 10],
          [0, 10_000],
          [9_999, 1],
        ] as const) {
          const part = await store.get('ranged', { offset, length });
          expect(part.length).toBe(length);
          expect(sha256Hex(part)).toBe(sha256Hex(data.subarray(offset, offset + length)));
        }
        await expect(store.get('ranged', { offset: 9_990, length: 11 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.get('ranged', { offset: 10_000, length: 1 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.get('ranged', { offset: 20_000, length: 5 })).rejects.toBeInstanceOf(InvalidInputError);
      }));

    it("reads byte ranges into the caller's memory, when the store offers getInto", (ctx) =>
      withStore(async (store) => {
        if (!store.getInto) return ctx.skip('this store reads with get only');
        const data = randomData(10_000);
        await store.put('ranged', data);
        const memory = new Uint8Array(new SharedArrayBuffer(6_000)).fill(7);
        for (const [offset, length] of [
          [0, 1],
          [1234, 5000],
          [9_990, 10],
          [4_000, 6_000],
        ] as const) {
          const part = await store.getInto!('ranged', { offset, length }, memory);
          expect(part.buffer).toBe(memory.buffer);
          expect(part.byteOffset).toBe(0);
          expect(sha256Hex(part)).toBe(sha256Hex(data.subarray(offset, offset + length)));
        }
        await expect(store.getInto('ranged', { offset: 9_990, length: 11 }, memory)).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.getInto('missing/object', { offset: 0, length: 1 }, memory)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.getInto('ranged', { offset: 0, length: 6_001 }, memory)).rejects.toThrow(/do not fit/);
      }));

    it('reports a missing object as NotFoundError', () =>
      withStore(async (store) => {
        await expect(store.get('missing/object')).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.get('missing/object', { offset: 0, length: 1 })).rejects.toBeInstanceOf(NotFoundError);
      }));

    it('stats existing and missing objects', () =>
      withStore(async (store) => {
        await store.put('stat/me', randomData(4321));
        expect(await store.stat('stat/me')).toEqual({ key: 'stat/me', size: 4321 });
        expect(await store.stat('stat/missing')).toBeUndefined();
        expect(await store.stat('stat')).toBeUndefined();
      }));

    it(`lists ${MANY_OBJECTS} objects by prefix, each exactly once`, () =>
      withStore(async (store) => {
        const keys = Array.from({ length: MANY_OBJECTS }, (_, i) => `many/${String(i).padStart(4, '0')}`);
        await mapLimit(keys, PUT_CONCURRENCY, (key) => store.put(key, new TextEncoder().encode(key)));
        await store.put('manyother/x', randomData(3));
        await store.put('other/y', randomData(3));

        const listed = await collect(store.list('many/'));
        expect(listed.map((info) => info.key).sort()).toEqual(keys);
        for (const info of listed) expect(info.size).toBe(info.key.length);

        expect((await collect(store.list('many/00'))).length).toBe(100);
        expect((await collect(store.list('many'))).length).toBe(MANY_OBJECTS + 1);
        expect((await collect(store.list(''))).length).toBe(MANY_OBJECTS + 2);
        expect(await collect(store.list('nothing/'))).toEqual([]);
      }));

    it('deletes idempotently', () =>
      withStore(async (store) => {
        await store.put('gone', randomData(10));
        await store.delete('gone');
        await expect(store.get('gone')).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.stat('gone')).toBeUndefined();
        await store.delete('gone');
        await store.delete('never/existed');
        expect(await collect(store.list('gone'))).toEqual([]);
      }));

    it('accepts a second put of the same key', () =>
      withStore(async (store) => {
        const data = randomData(5000);
        await store.put('twice', data);
        await store.put('twice', data);
        await Promise.all([store.put('twice', data), store.put('twice', data)]);
        expect(sha256Hex(await store.get('twice'))).toBe(sha256Hex(data));
        expect(await collect(store.list('twice'))).toEqual([{ key: 'twice', size: 5000 }]);
      }));

    const atomicitySkip = skipReason('overwrite-atomicity');
    it.skipIf(atomicitySkip !== undefined)(
      `never shows a concurrent reader a partial ${ATOMICITY_OBJECT_BYTES / MiB} MiB object${atomicitySkip ? ` (skipped: ${atomicitySkip})` : ''}`,
      () =>
        withStore(async (store) => {
          const first = randomData(ATOMICITY_OBJECT_BYTES);
          const second = randomData(ATOMICITY_OBJECT_BYTES);
          const allowed = new Set([sha256Hex(first), sha256Hex(second)]);
          await store.put('atomic', first);

          let writing = true;
          const reader = async (): Promise<number> => {
            let reads = 0;
            // At least one read even if the put wins the race outright.
            do {
              const seen = await store.get('atomic');
              expect(allowed.has(sha256Hex(seen)), `read ${reads} saw a partial or mixed object`).toBe(true);
              reads += 1;
            } while (writing);
            return reads;
          };
          const readers = [reader(), reader()];
          try {
            await store.put('atomic', second);
          } finally {
            writing = false;
          }
          await Promise.all(readers);
          expect(sha256Hex(await store.get('atomic'))).toBe(sha256Hex(second));
        }),
    );

    it(`round-trips a ${LARGE_OBJECT_BYTES / MiB} MiB object intact`, () =>
      withStore(async (store) => {
        const data = randomData(LARGE_OBJECT_BYTES);
        await store.put('large/object', data);
        expect(await store.stat('large/object')).toEqual({ key: 'large/object', size: LARGE_OBJECT_BYTES });
        expect(sha256Hex(await store.get('large/object'))).toBe(sha256Hex(data));
        // A range that straddles multipart part boundaries.
        const range = { offset: 7 * MiB + 3, length: 18 * MiB };
        const part = await store.get('large/object', range);
        expect(sha256Hex(part)).toBe(sha256Hex(data.subarray(range.offset, range.offset + range.length)));
      }));

    it('keeps keys with nested slashes', () =>
      withStore(async (store) => {
        const keys = ['a/b/c/d/e.bin', 'a/b/c/f', 'a/b/g', 'a/h'];
        for (const key of keys) await store.put(key, new TextEncoder().encode(key));
        for (const key of keys) expect(new TextDecoder().decode(await store.get(key))).toBe(key);
        const listed = await collect(store.list('a/b/'));
        expect(listed.map((info) => info.key).sort()).toEqual(['a/b/c/d/e.bin', 'a/b/c/f', 'a/b/g']);
        expect((await collect(store.list('a/b/c/d/e'))).map((info) => info.key)).toEqual(['a/b/c/d/e.bin']);
      }));
  });
}

async function collect(items: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const item of items) out.push(item);
  return out;
}
