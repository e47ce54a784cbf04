/**
 * `verify --snapshot` through the real CLI: one snapshot is checked by reading only the packs it
 * needs. Damage in another volume's pack is not its concern; damage in its own is found, named,
 * and exits 3, while the whole-repository verify finds both.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createImage, describeRun, listPacks, makeTempDir, parseJson, removeDir, runCli, type CliEnv } from '../support/cli.js';

const PASSWORD = 'verify-one-pw-7&q';

interface VerifyJson {
  snapshots: number;
  packsTotal: number;
  packsRead: number;
  blobsChecked: number;
  problems: { kind: string; object?: string; affected: { snapshotId: string; volumeId: string; chunks: number[] }[] }[];
}

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('verify-snapshot');
});

afterAll(async () => {
  await removeDir(dir);
});

it('checks one snapshot from the packs it needs; damage elsewhere is not read', { timeout: 120_000 }, async () => {
  const repo = join(dir, 'repo');
  const env: CliEnv = { SNAPFLEET_REPOSITORY: repo, SNAPFLEET_PASSWORD: PASSWORD };
  expect((await runCli(['init'], env)).code).toBe(0);
  // The packs vol-a's archive stored: anything after them is vol-b's alone.
  let aPacks = new Set<string>();
  for (const [volume, seed] of [
    ['vol-a', 501],
    ['vol-b', 502],
  ] as const) {
    const image = join(dir, `${volume}.img`);
    await createImage(image, 16, seed);
    const r = await runCli(['archive', image, '--volume-id', volume, '--pack-size', '1', '--json'], env);
    expect(r.code, describeRun(r)).toBe(0);
    if (volume === 'vol-a') aPacks = new Set((await listPacks(repo)).map((p) => p.id));
  }
  const all = await listPacks(repo);
  const bOnly = all.filter((p) => !aPacks.has(p.id));
  expect(bOnly.length).toBeGreaterThan(0);

  const cleanA = await runCli(['verify', '--snapshot', 'latest', '--volume-id', 'vol-a', '--json'], env);
  expect(cleanA.code, describeRun(cleanA)).toBe(0);
  const a = parseJson<VerifyJson>(cleanA);
  expect(a.snapshots).toBe(1);
  expect(a.problems).toEqual([]);
  expect(a.packsRead).toBeLessThan(all.length);

  // One flipped byte in a pack only vol-b's snapshot uses.
  const victim = bOnly[0]!;
  const bytes = await readFile(victim.path);
  bytes[64]! ^= 0x55;
  await writeFile(victim.path, bytes);

  const stillA = await runCli(['verify', '--snapshot', 'latest', '--volume-id', 'vol-a', '--json'], env);
  expect(stillA.code, describeRun(stillA)).toBe(0);
  const b = await runCli(['verify', '--snapshot', 'latest', '--volume-id', 'vol-b'], env);
  expect(b.code, describeRun(b)).toBe(3);
  expect(b.stdout).toMatch(/checked 1 snapshot, read \d+ of the \d+ packs it needs/);
  expect(b.stdout).toContain(victim.id.slice(0, 8));
  expect(b.stdout).toContain('(vol-b)');
  const whole = await runCli(['verify', '--json'], env);
  expect(whole.code).toBe(3);
  expect(parseJson<VerifyJson>(whole).problems.some((p) => p.object?.includes(victim.id))).toBe(true);
});
