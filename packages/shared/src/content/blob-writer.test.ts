import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, randomData } from '../testing/index.js';
import { generateMasterKeys } from '../format/master-keys.js';
import { ID_BYTES } from '../format/ids.js';
import { createInlineCodecPool, type CodecPool } from '../parallel/codec-pool.js';
import { BlobIndex } from './blob-index.js';
import { BlobWriter } from './blob-writer.js';

const CHUNK = 4096;
const BLOCK = 16 * CHUNK;

async function writeBlocks(writer: BlobWriter, pool: CodecPool, blocks: Uint8Array[]): Promise<void> {
  for (const data of blocks) await writer.addBlock(data, await pool.hashChunks(data, CHUNK), CHUNK);
}

describe('BlobWriter', () => {
  it('drops indexed ids from its pending set as packs are stored, and still stores nothing twice', async () => {
    const keys = generateMasterKeys(true);
    const pool = createInlineCodecPool(keys);
    const index = new BlobIndex();
    const store = new MemoryBlobStore();
    const options = { zstdLevel: 1, blockSize: BLOCK, blocksInFlight: 2, packSize: 64 * 1024, pendingPruneMin: 64 };
    const blocks = Array.from({ length: 64 }, () => randomData(BLOCK)); // 1,024 distinct chunks
    blocks.push(...blocks.slice(0, 8)); // repeats of chunks claimed long before, maybe pruned since

    const first = new BlobWriter(store, keys, index, pool, options);
    const seen: number[] = [];
    for (const data of blocks) {
      await writeBlocks(first, pool, [data]);
      seen.push(first.pendingCount);
    }
    const stats = await first.close();
    expect(stats.newBlobs).toBe(1024);
    expect(stats.dedupedBlobs).toBe(8 * 16);
    // Bounded: pruned back whenever it doubled past the minimum, never the whole session's ids.
    expect(Math.max(...seen)).toBeLessThan(1024);
    expect(seen.some((n, i) => i > 0 && n < seen[i - 1]!)).toBe(true);
    for (const data of blocks) {
      const ids = await pool.hashChunks(data, CHUNK);
      for (let o = 0; o < ids.byteLength; o += ID_BYTES) expect(index.has(ids, o)).toBe(true);
    }

    // A second writer over the same index finds everything stored.
    const second = new BlobWriter(store, keys, index, pool, options);
    await writeBlocks(second, pool, blocks);
    expect(await second.close()).toMatchObject({ newBlobs: 0, packs: 0, dedupedBlobs: blocks.length * 16 });
  });
});
