import { readFile, writeFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeBlocks } from './change-blocks.js';
import { makeTempDir, removeDir } from './cli.js';

const BLOCK = 4096;
const BLOCKS = 1024;

describe('changeBlocks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('change-blocks');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  async function changed(seed: number, fraction: number): Promise<{ bytes: Buffer; blocks: number[] }> {
    const path = join(dir, `img-${seed}-${fraction}`);
    await writeFile(path, Buffer.alloc(BLOCKS * BLOCK));
    await changeBlocks(path, fraction, seed);
    const bytes = await readFile(path);
    const blocks: number[] = [];
    for (let b = 0; b < BLOCKS; b++) if (bytes.subarray(b * BLOCK, (b + 1) * BLOCK).some((x) => x !== 0)) blocks.push(b);
    return { bytes, blocks };
  }

  it('rewrites about the fraction asked for, in place, as a seed replays', async () => {
    const a = await changed(7, 0.1);
    expect(a.bytes.length).toBe(BLOCKS * BLOCK);
    // Runs may overlap, so somewhat fewer than asked, never more.
    expect(a.blocks.length).toBeLessThanOrEqual(Math.round(BLOCKS * 0.1));
    expect(a.blocks.length).toBeGreaterThan(Math.round(BLOCKS * 0.05));
    expect((await changed(7, 0.1)).bytes.equals(a.bytes)).toBe(true);
    expect((await changed(8, 0.1)).bytes.equals(a.bytes)).toBe(false);
  });

  it('writes both compressible and incompressible blocks, no two alike', async () => {
    const { bytes, blocks } = await changed(11, 0.3);
    const ratios = blocks.map((b) => deflateSync(bytes.subarray(b * BLOCK, (b + 1) * BLOCK)).length / BLOCK);
    expect(ratios.some((r) => r < 0.5)).toBe(true);
    expect(ratios.some((r) => r > 0.95)).toBe(true);
    const distinct = new Set(blocks.map((b) => bytes.subarray(b * BLOCK, (b + 1) * BLOCK).toString('base64')));
    expect(distinct.size).toBe(blocks.length);
  });

  it('refuses a fraction outside (0, 1]', async () => {
    await expect(changeBlocks(join(dir, 'none'), 0, 1)).rejects.toThrow(/fraction/);
    await expect(changeBlocks(join(dir, 'none'), 1.5, 1)).rejects.toThrow(/fraction/);
  });
});
