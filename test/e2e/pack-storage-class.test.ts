/**
 * `init --pack-storage-class` on the S3 test server: the archive's packs are stored in that class
 * (the server keeps the class it was sent and reports it on HEAD), everything else in the
 * default, and the volume restores byte for byte. s3rver knows STANDARD_IA but not GLACIER_IR.
 */
import { join } from 'node:path';
import { openBlobStore } from '@snapfleet/providers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestBucket, type TestBucket } from '../setup/s3.js';
import { createImage, describeRun, makeTempDir, parseJson, removeDir, runCli, sha256File, type CliEnv } from '../support/cli.js';

const PASSWORD = 'pack-class-pw-4k!';
let dir: string;
let bucket: TestBucket;
let env: CliEnv;

beforeAll(async () => {
  dir = await makeTempDir('pack-class');
  bucket = await createTestBucket();
  env = { ...bucket.env, SNAPFLEET_REPOSITORY: bucket.repoUrl, SNAPFLEET_PASSWORD: PASSWORD, NODE_NO_WARNINGS: '1' };
});

afterAll(async () => {
  await removeDir(dir);
});

/** Each object's storage class as the server reports it on HEAD (s3rver answers unsigned requests). */
async function classes(): Promise<Map<string, string>> {
  const store = await openBlobStore(bucket.repoUrl, { ...bucket.env, SNAPFLEET_CACHE_DIR: 'off' });
  const byKey = new Map<string, string>();
  for await (const o of store.list('')) {
    const head = await fetch(`${bucket.endpoint}/${bucket.bucket}/repo/${o.key}`, { method: 'HEAD' });
    expect(head.ok, o.key).toBe(true);
    byKey.set(o.key, head.headers.get('x-amz-storage-class') ?? 'STANDARD');
  }
  return byKey;
}

it('stores the packs in the class init named, the rest in the default, and restores byte for byte', async () => {
  const bad = await runCli(['init', '--pack-storage-class', 'DEEP_FREEZE'], env);
  expect(bad.code, describeRun(bad)).toBe(2);
  expect(bad.stderr).toMatch(/DEEP_FREEZE is not one of STANDARD, STANDARD_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE.*\[pack-storage-class\]/);
  const folder = await runCli(['init', '--pack-storage-class', 'STANDARD_IA', '--repo', join(dir, 'folder-repo')], env);
  expect(folder.code, describeRun(folder)).toBe(2);
  expect(folder.stderr).toMatch(/applies to s3:\/\/ repositories only.*\[pack-storage-class\]/);
  expect((await classes()).size, 'refused inits write nothing').toBe(0);

  const init = await runCli(['init', '--json', '--pack-storage-class', 'STANDARD_IA'], env);
  expect(init.code, describeRun(init)).toBe(0);
  expect(parseJson<{ packStorageClass: string }>(init).packStorageClass).toBe('STANDARD_IA');
  const image = join(dir, 'vol.img');
  await createImage(image, 24, 5);
  const archive = await runCli(['archive', image, '--volume-id', 'vol-1', '--json'], env);
  expect(archive.code, describeRun(archive)).toBe(0);

  const stored = await classes();
  const packs = [...stored].filter(([k]) => k.startsWith('data/'));
  expect(packs.length).toBeGreaterThan(0);
  for (const [key, cls] of packs) expect(cls, key).toBe('STANDARD_IA');
  const others = [...stored].filter(([k]) => !k.startsWith('data/'));
  expect(others.map(([k]) => k.split('/')[0]).sort()).toEqual(expect.arrayContaining(['config', 'index', 'keys', 'packlists', 'snapshots']));
  for (const [key, cls] of others) expect(cls, key).toBe('STANDARD');

  const out = join(dir, 'restored.img');
  const restore = await runCli(['restore', '--snapshot', 'latest', '--to', out], env);
  expect(restore.code, describeRun(restore)).toBe(0);
  expect(await sha256File(out)).toBe(await sha256File(image));
});
