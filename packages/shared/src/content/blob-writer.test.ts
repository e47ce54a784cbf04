import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, randomData } from '../testing/index.js';
import { generateMasterKeys } from '../format/master-keys.js';
import { ID_BYTES } from '../format/ids.js';
import { decodeEnvelope } from '../format/envelope.js';
import { decodeIndexPayload } from '../format/index-object.js';
import { collect } from './map-limit.js';
import { createInlineCodecPool, type CodecPool } from '../parallel/codec-pool.js';
import { BlobIndex } from './blob-index.js';
import { BlobWriter } from './blob-writer.js';
import { RecentIds } from './recent-ids.js';

const CHUNK = 4096;
const BLOCK = 16 * CHUNK;

async function writeBlocks(writer: BlobWriter, pool: CodecPool, blocks: Uint8Array[]): Promise<void> {
  for (const data of blocks) await writer.addBlock(data, await pool.hashChunks(data, CHUNK), CHUNK);
}

/** The index as a new archive would load it: every index object the store holds. */
async function loadIndex(store: MemoryBlobStore, keys: ReturnType<typeof generateMasterKeys>): Promise<BlobIndex> {
  const index = new BlobIndex();
  for (const o of await collect(store.list('index/'))) {
    for (const p of decodeIndexPayload(decodeEnvelope(await store.get(o.key), keys.enc, o.key), o.key)) index.addPack(p);
  }
  return index;
}

describe('BlobWriter', () => {
  it('remembers a bounded window of its own ids: repeats inside it are stored once, memory stays flat', async () => {
    const keys = generateMasterKeys(true);
    const pool = createInlineCodecPool(keys);
    const store = new MemoryBlobStore();
    const options = { zstdLevel: 1, blockSize: BLOCK, blocksInFlight: 2, packSize: 64 * 1024, recentIds: 256 };
    const blocks = Array.from({ length: 64 }, () => randomData(BLOCK)); // 1,024 distinct chunks
    blocks.push(...blocks.slice(-4)); // repeats of the last 64 chunks: inside the window
    blocks.push(...blocks.slice(0, 4)); // repeats of the first 64: long forgotten

    const empty = new BlobIndex();
    const first = new BlobWriter(store, keys, empty, pool, options);
    const seen: number[] = [];
    for (const data of blocks) {
      await writeBlocks(first, pool, [data]);
      seen.push(first.recentCount);
    }
    const stats = await first.close();
    expect(Math.max(...seen)).toBeLessThanOrEqual(256);
    expect(stats.dedupedBlobs).toBe(4 * 16);
    expect(stats.newBlobs).toBe(1024 + 4 * 16);
    // The loaded index is left as it was: the writer's own packs are not added to it.
    expect(empty.hasPack('0'.repeat(64))).toBe(false);
    const ids0 = await pool.hashChunks(blocks[0]!, CHUNK);
    expect(empty.has(ids0, 0)).toBe(false);

    // Everything is stored and indexed; a second writer over the index as stored finds it all.
    const index = await loadIndex(store, keys);
    for (const data of blocks) {
      const ids = await pool.hashChunks(data, CHUNK);
      for (let o = 0; o < ids.byteLength; o += ID_BYTES) expect(index.has(ids, o)).toBe(true);
    }
    const second = new BlobWriter(store, keys, index, pool, options);
    await writeBlocks(second, pool, blocks);
    expect(await second.close()).toMatchObject({ newBlobs: 0, packs: 0, dedupedBlobs: blocks.length * 16 });
  });
});

describe('RecentIds', () => {
  it("takes the index's answers asked ahead (lookupsAhead) instead of asking again, and stores the same", async () => {
    const keys = generateMasterKeys(true);
    const pool = createInlineCodecPool(keys);
    const store = new MemoryBlobStore();
    const options = { zstdLevel: 1, blockSize: BLOCK, blocksInFlight: 2, packSize: 64 * 1024 };
    const stored = Array.from({ length: 4 }, () => randomData(BLOCK));
    const seed = new BlobWriter(store, keys, new BlobIndex(), pool, options);
    await writeBlocks(seed, pool, stored);
    await seed.close();
    const index = await loadIndex(store, keys);
    // Half known to the index, half new, a hole, and the first chunk repeated inside the block.
    const mixed = (i: number) => {
      const data = new Uint8Array(BLOCK);
      data.set(stored[i]!.subarray(0, BLOCK / 2));
      data.set(randomData(BLOCK / 2 - 2 * CHUNK), BLOCK / 2);
      data.set(data.subarray(0, CHUNK), BLOCK - CHUNK); // the block's last chunk repeats its first
      return data; // the chunk before the last stays zero: a hole
    };
    const blocks = [0, 1, 2, 3].map(mixed);
    let asked = 0;
    const counting = { find: (ids: Uint8Array, offset: number) => (asked++, index.find(ids, offset)) };

    const inTurn = new BlobWriter(new MemoryBlobStore(), keys, counting, pool, options);
    await writeBlocks(inTurn, pool, blocks);
    const expected = await inTurn.close();
    expect(asked).toBeGreaterThan(0);

    asked = 0;
    const early = new BlobWriter(new MemoryBlobStore(), keys, counting, pool, options);
    for (const data of blocks) {
      const ids = await pool.hashChunks(data, CHUNK);
      const offsets = early.lookupsAhead(ids);
      expect(offsets.length).toBe(15); // all but the hole
      const packs = Array.from(offsets, (o) => index.find(ids, o));
      await early.addBlock(data, ids, CHUNK, undefined, undefined, { offsets, packs });
    }
    const stats = await early.close();
    // Only manifest-free data here: every lookup was answered ahead.
    expect(asked).toBe(0);
    expect(stats).toEqual(expected);
    expect(stats.dedupedBlobs).toBe(4 * 9); // 8 known halves + the repeat, per block
  });

  it('keeps between half and all of its capacity of the most recent ids', () => {
    const recent = new RecentIds(100);
    const ids = randomData(1000 * ID_BYTES);
    for (let i = 0; i < 1000; i++) {
      expect(recent.insert(ids, i * ID_BYTES)).toBe(true);
      expect(recent.insert(ids, i * ID_BYTES)).toBe(false);
      expect(recent.count).toBeLessThanOrEqual(100);
    }
    for (let i = 950; i < 1000; i++) expect(recent.has(ids, i * ID_BYTES)).toBe(true);
    for (let i = 0; i < 800; i++) expect(recent.has(ids, i * ID_BYTES)).toBe(false);
  });
});
