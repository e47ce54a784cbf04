import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError, TransientError } from '../errors.js';
import { describeBlobStoreConformance } from './blob-store-conformance.js';
import { FaultyBlobStore } from './faulty-blob-store.js';
import { MemoryBlobStore } from './memory-blob-store.js';
import { MemoryVolumeSource } from './memory-volume-source.js';
import { MemoryVolumeTarget } from './memory-volume-target.js';
import { describeVolumeSourceConformance } from './volume-source-conformance.js';
import { describeVolumeTargetConformance } from './volume-target-conformance.js';

const noCleanup = async (): Promise<void> => {};

describeBlobStoreConformance('MemoryBlobStore', async () => ({ store: new MemoryBlobStore(), cleanup: noCleanup }));

// With no rules the faulty wrapper must be transparent.
describeBlobStoreConformance('FaultyBlobStore without rules', async () => ({
  store: new FaultyBlobStore(new MemoryBlobStore()),
  cleanup: noCleanup,
}));

describeVolumeSourceConformance('MemoryVolumeSource', async (content) => ({
  source: new MemoryVolumeSource(content, { blockSize: 1024 * 1024 }),
  cleanup: noCleanup,
}));

describeVolumeTargetConformance(
  'MemoryVolumeTarget',
  async (sizeBytes) => {
    const target = new MemoryVolumeTarget({ capacityBytes: sizeBytes });
    return { target, readBack: async (size) => (target.state === 'committed' ? target.data.slice(0, size) : undefined), cleanup: noCleanup };
  },
  { fixedCapacity: true },
);

describe('FaultyBlobStore', () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

  it('fails only the nth put', async () => {
    const store = new FaultyBlobStore(new MemoryBlobStore()).failNth('put', 2);
    await store.put('a', bytes('a'));
    await expect(store.put('b', bytes('b'))).rejects.toBeInstanceOf(TransientError);
    await store.put('b', bytes('b'));
    expect(await store.stat('b')).toEqual({ key: 'b', size: 1 });
    expect(store.injected).toBe(1);
    expect(store.calls.put).toBe(3);
  });

  it('fails the nth get with a chosen error', async () => {
    const store = new FaultyBlobStore(new MemoryBlobStore()).failNth('get', 1, (_op, key) => new NotFoundError(key));
    await store.put('a', bytes('a'));
    await expect(store.get('a')).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.get('a')).toEqual(bytes('a'));
  });

  it('fails every put under a prefix until the rules are cleared', async () => {
    const inner = new MemoryBlobStore();
    const store = new FaultyBlobStore(inner).failPutsWithPrefix('index/');
    await store.put('data/x', bytes('x'));
    await expect(store.put('index/1', bytes('1'))).rejects.toThrow(/injected fault: put index\/1/);
    await expect(store.put('index/2', bytes('2'))).rejects.toBeInstanceOf(TransientError);
    expect(inner.keys()).toEqual(['data/x']);
    store.clearRules();
    await store.put('index/1', bytes('1'));
    expect(inner.keys()).toEqual(['data/x', 'index/1']);
  });

  it('can report a put as failed after it landed (a lost acknowledgement)', async () => {
    const inner = new MemoryBlobStore();
    const store = new FaultyBlobStore(inner, [{ op: 'put', nth: 1, effect: 'fail-after' }]);
    await expect(store.put('k', bytes('v'))).rejects.toBeInstanceOf(TransientError);
    expect(inner.keys()).toEqual(['k']);
  });

  it('corrupts gets under a prefix a limited number of times', async () => {
    const store = new FaultyBlobStore(new MemoryBlobStore()).corruptGets('packs/', 1);
    await store.put('packs/p', bytes('hello'));
    await store.put('other', bytes('hello'));
    expect(await store.get('packs/p')).not.toEqual(bytes('hello'));
    expect(await store.get('packs/p')).toEqual(bytes('hello'));
    expect(await store.get('other')).toEqual(bytes('hello'));
  });

  it('fails a listing', async () => {
    const store = new FaultyBlobStore(new MemoryBlobStore()).failNth('list', 1);
    const iterate = async (): Promise<void> => {
      for await (const _ of store.list('')) void _;
    };
    await expect(iterate()).rejects.toBeInstanceOf(TransientError);
    await iterate();
  });
});

describe('MemoryVolumeSource', () => {
  it('lists the given written blocks and changed-block lists', async () => {
    const source = new MemoryVolumeSource(new Uint8Array(4096 * 4), {
      blockSize: 4096,
      sourceRef: 'snap-2',
      writtenBlocks: [3, 1, 1],
      changedSince: { 'snap-1': [2, 0] },
    });
    const collect = async (items: AsyncIterable<number>): Promise<number[]> => {
      const out: number[] = [];
      for await (const item of items) out.push(item);
      return out;
    };
    expect(await collect(source.writtenBlocks())).toEqual([1, 3]);
    const changed = await source.changedBlocksSince('snap-1');
    expect(changed && (await collect(changed))).toEqual([0, 2]);
    expect(await source.changedBlocksSince('snap-0')).toBeUndefined();
    expect(source.sourceRef).toBe('snap-2');
  });

  it('rejects a block size that is not a power of two', () => {
    expect(() => new MemoryVolumeSource(new Uint8Array(10), { blockSize: 3000 })).toThrow(InvalidInputError);
  });
});

describe('MemoryVolumeTarget', () => {
  it('collects writes and zeroes, and exposes the volume after commit', async () => {
    const target = new MemoryVolumeTarget();
    await target.open(8);
    await target.write(0, Uint8Array.of(1, 2, 3, 4));
    await target.write(4, Uint8Array.of(5, 6, 7, 8));
    await target.zero(2, 4);
    await target.commit();
    expect(target.data).toEqual(Uint8Array.of(1, 2, 0, 0, 0, 0, 7, 8));
  });

  it('rejects a volume larger than its capacity, writes outside the volume and use after abort', async () => {
    await expect(new MemoryVolumeTarget({ capacityBytes: 4 }).open(5)).rejects.toBeInstanceOf(InvalidInputError);
    const target = new MemoryVolumeTarget();
    await target.open(4);
    await expect(target.write(2, Uint8Array.of(1, 2, 3))).rejects.toBeInstanceOf(InvalidInputError);
    await target.abort();
    await target.abort();
    await expect(target.write(0, Uint8Array.of(1))).rejects.toThrow(/aborted/);
  });
});
