/**
 * `archive --pack-size`: the same image archived with 1 MiB packs and with the default 16 MiB
 * packs stores the same blobs, in many small packs instead of a few large ones, and both
 * restore byte-identical.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createImage, describeRun, listPacks, makeTempDir, MiB, PACK_TARGET_BYTES, parseJson, removeDir, runCli, sha256File } from '../support/cli.js';

const IMAGE_MIB = 32;
/**
 * A pack is stored once it reaches the size, so it may overshoot by its last frame (at most
 * 256 KiB of chunks, docs/format.md) plus the frame and pack headers.
 */
const OVERSHOOT = 256 * 1024 + 16 * 1024;

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await makeTempDir('pack-size');
  image = join(dir, 'v.img');
  await createImage(image, IMAGE_MIB, 21);
});
afterAll(async () => {
  await removeDir(dir);
});

async function archiveWith(name: string, packArgs: string[]): Promise<{ repo: string; blobs: number; packSizes: number[] }> {
  const repo = join(dir, name);
  const init = await runCli(['init', '--repo', repo, '--no-encryption']);
  expect(init.code, describeRun(init)).toBe(0);
  const archive = await runCli(['archive', '--repo', repo, '--volume-id', 'v', ...packArgs, image, '--json']);
  expect(archive.code, describeRun(archive)).toBe(0);
  const { newBlobs } = parseJson<{ newBlobs: number }>(archive);
  const restored = join(dir, `${name}.img`);
  const restore = await runCli(['restore', '--repo', repo, '--snapshot', 'latest', '--to', restored]);
  expect(restore.code, describeRun(restore)).toBe(0);
  expect(await sha256File(restored)).toBe(await sha256File(image));
  return { repo, blobs: newBlobs, packSizes: (await listPacks(repo)).map((p) => p.size) };
}

it('stores the same blobs in packs of the given size', async () => {
  const small = await archiveWith('small', ['--pack-size', '1']);
  const usual = await archiveWith('usual', []);
  expect(small.blobs).toBe(usual.blobs);
  for (const size of small.packSizes) expect(size).toBeLessThanOrEqual(MiB + OVERSHOOT);
  for (const size of usual.packSizes) expect(size).toBeLessThanOrEqual(PACK_TARGET_BYTES + OVERSHOOT);
  // Every pack but the last one filled is full.
  const bySize = [...small.packSizes].sort((a, b) => a - b);
  for (const size of bySize.slice(1)) expect(size).toBeGreaterThanOrEqual(MiB);
  expect(usual.packSizes.length).toBeLessThan(small.packSizes.length);
});
