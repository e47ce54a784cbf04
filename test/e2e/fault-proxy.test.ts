/**
 * Faults at the wire: the CLI talks to the test S3 server through a fault-injecting proxy
 * (@snapfleet/shared/testing, fault-proxy.ts) that answers 503 SlowDown and 500 InternalError
 * (before the server saw the request, or after it applied it), resets connections mid-body,
 * truncates bodies and delays responses. The SDK's retries and the S3 store's own (for bodies
 * that break off) meet it.
 *
 * At 10% faults archive (single and multipart puts), restore, verify, forget --prune and copy
 * complete, restores are byte-identical and both repositories verify clean. At 100% faults each
 * command fails with an error naming the object and the fault after a bounded number of
 * requests, and the repository, read without the proxy, still verifies and restores: no
 * snapshot names missing data, and no fault is ever reported as damage.
 */
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_KINDS, startFaultProxy, type FaultProxy } from '@snapfleet/shared/testing';
import { createTestBucket, type TestBucket } from '../setup/s3.js';
import {
  createImage,
  describeRun,
  makeTempDir,
  mutateImage,
  parseJson,
  removeDir,
  runCli,
  sha256File,
  snapfleetStderr,
  STACK_FRAME,
  type CliEnv,
  type CliResult,
} from '../support/cli.js';

const PASSWORD = 'fault-proxy-pw-Hq3#x';
/** Small: the whole file makes about 400 requests through the proxies in well under a minute. */
const IMAGE_MIB = 12;
/** 1 MiB packs (`--pack-size 1`), so an archive makes dozens of PUTs and a restore dozens of ranged GETs. */
const SMALL_PACKS = ['--pack-size', '1'];
/**
 * Packs of the default size (16 MiB target) go up as multipart uploads above 5 MiB (S3's minimum
 * part size), so the faults meet UploadPart and CompleteMultipartUpload too.
 */
const MULTIPART = { SNAPFLEET_S3_MULTIPART_THRESHOLD: '5MiB', SNAPFLEET_S3_PART_SIZE: '5MiB' };
/**
 * Fewer attempts than the default (6) for the 100% runs: SlowDown backoff doubles from 1 s. The
 * S3 store makes as many attempts at a GET whose body breaks off, each of them up to this many
 * requests.
 */
const FEW_ATTEMPTS = 3;

let work: string;
let image1: string;
let image2: string;
let image3: string;
const sha = new Map<string, string>();

beforeAll(async () => {
  work = await makeTempDir('fault-proxy');
  [image1, image2, image3] = ['v1.img', 'v2.img', 'v3.img'].map((n) => join(work, n)) as [string, string, string];
  await createImage(image1, IMAGE_MIB, 31);
  await copyFile(image1, image2);
  await mutateImage(image2, 0.05, 32);
  await createImage(image3, IMAGE_MIB, 33);
  for (const img of [image1, image2, image3]) sha.set(img, await sha256File(img));
});

afterAll(async () => {
  await removeDir(work);
});

function direct(bucket: TestBucket): CliEnv {
  return { ...bucket.env, ...MULTIPART, SNAPFLEET_REPOSITORY: bucket.repoUrl, SNAPFLEET_PASSWORD: PASSWORD };
}

/** The bucket's environment with the S3 endpoint pointed at the proxy. */
function through(proxy: FaultProxy, bucket: TestBucket, extra: CliEnv = {}): CliEnv {
  return { ...direct(bucket), AWS_ENDPOINT_URL_S3: proxy.endpoint, ...extra };
}

function expectOk(r: CliResult, what: string): void {
  expect(r.code, `${what}: ${describeRun(r)}`).toBe(0);
  expect(r.stderr, `${what}: stack trace`).not.toMatch(STACK_FRAME);
}

async function expectVerifyClean(env: CliEnv, what: string): Promise<void> {
  const r = await runCli(['verify', '--json'], env);
  expectOk(r, what);
  const report = parseJson<{ problems: { severity: string }[]; packsRead: number; packsTotal: number }>(r);
  // Packs a failed archive stored without an index object are notices for maintenance (S3
  // applied the put though its answer was lost): nothing damaged, nothing half-written.
  expect(
    report.problems.filter((p) => p.severity !== 'notice'),
    what,
  ).toEqual([]);
  expect(report.packsRead, what).toBe(report.packsTotal);
}

async function expectRestores(env: CliEnv, snapshot: string, image: string, what: string, volumeId?: string): Promise<void> {
  const to = join(work, `restored-${what.replace(/\W+/g, '-')}.img`);
  const r = await runCli(['restore', '--snapshot', snapshot, ...(volumeId ? ['--volume-id', volumeId] : []), '--to', to], env);
  expectOk(r, `${what}: restore ${snapshot}`);
  expect(await sha256File(to), `${what}: restore ${snapshot}`).toBe(sha.get(image));
}

async function snapshotIds(env: CliEnv): Promise<string[]> {
  const r = await runCli(['snapshots', '--json'], env);
  expectOk(r, 'snapshots');
  return parseJson<Array<{ id: string }>>(r)
    .map((s) => s.id)
    .sort();
}

async function archive(env: CliEnv, image: string, volumeId: string, extra: string[] = []): Promise<string> {
  const r = await runCli(['archive', image, '--volume-id', volumeId, ...extra, '--json'], env);
  expectOk(r, `archive ${volumeId}`);
  return parseJson<{ snapshot: string }>(r).snapshot;
}

/** Every command's error names the object and the fault, and is no stack trace or damage report. */
function expectClearFailure(r: CliResult, what: string, pattern: RegExp): void {
  expect(r.code, `${what} must fail as an operational error, not as damage (3, 4): ${describeRun(r)}`).toBe(1);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(r.stderr).not.toContain(PASSWORD);
  expect(r.stderr).not.toContain('S3RVER');
  expect(snapfleetStderr(r.stderr), what).toMatch(pattern);
}

/** A repository archived without the proxy: vol-a (image1) and, if asked, vol-b (image3). */
async function repositoryWith(volumes: 1 | 2): Promise<{ bucket: TestBucket; volA: string; volB?: string }> {
  const bucket = await createTestBucket();
  const env = direct(bucket);
  expectOk(await runCli(['init'], env), 'init');
  const volA = await archive(env, image1, 'vol-a', SMALL_PACKS);
  if (volumes === 1) return { bucket, volA };
  return { bucket, volA, volB: await archive(env, image3, 'vol-b', SMALL_PACKS) };
}

// The three scenarios run side by side, each with its own buckets and proxy: most of their time
// is spent waiting on backoff and child processes, not on the CPU.
describe.concurrent('faults at the wire', () => {
  it('at 10% faults archive, restore, verify, forget --prune and copy complete; restores are byte-identical; both repositories verify', async () => {
    const [source, target] = await Promise.all([createTestBucket(), createTestBucket()]);
    expectOk(await runCli(['init'], direct(source)), 'init');
    const proxy = await startFaultProxy({
      target: source.endpoint,
      seed: 20261205,
      // 2% of each kind: 10% of the requests are faulted, 8% fail.
      rates: { 'slow-down': 0.02, 'internal-error': 0.02, reset: 0.02, truncate: 0.02, slow: 0.02 },
      slowMs: 200,
    });
    try {
      const env = through(proxy, source);
      const first = await archive(env, image1, 'vol-a', SMALL_PACKS);
      await archive(env, image2, 'vol-a', SMALL_PACKS);
      await archive(env, image3, 'vol-m');
      await expectRestores(env, 'latest', image2, 'latest of vol-a', 'vol-a');
      await expectRestores(env, first, image1, 'first of vol-a');

      // Repacking every pack with any garbage makes prune write and delete many objects.
      const forget = await runCli(['forget', '--all', '--keep-last', '1', '--prune', '--repack-below', '100%', '--json'], env);
      expectOk(forget, 'forget --prune');
      const { prune } = parseJson<{ prune: { repackedPacks: number; deletedPacks: number } }>(forget);
      expect(prune.repackedPacks).toBeGreaterThan(0);
      expect(prune.deletedPacks).toBeGreaterThan(0);
      await expectVerifyClean(env, 'verify after prune');

      // Copy into a second bucket, both through the proxy; the copy is read without it.
      const copyEnv = { ...through(proxy, target), SNAPFLEET_FROM_PASSWORD: PASSWORD };
      expectOk(await runCli(['init', '--copy-id-key-from', source.repoUrl], copyEnv), 'init --copy-id-key-from');
      const copy = await runCli(['copy', '--from', source.repoUrl, '--json'], copyEnv);
      expectOk(copy, 'copy');
      expect(parseJson<{ copied: number }>(copy).copied).toBe(2);
      await expectRestores(copyEnv, 'latest', image2, 'copied vol-a', 'vol-a');
      await expectVerifyClean(direct(target), 'copy target without the proxy');
    } finally {
      await proxy.close();
    }
    const { stats } = proxy;
    console.log(`10% faults: ${JSON.stringify(stats)}`);
    for (const kind of FAULT_KINDS) expect(stats.injected[kind], kind).toBeGreaterThan(0);
    expect(stats.afterForward, '503/500 after the server applied the request').toBeGreaterThan(0);
    expect(stats.cutBodies, 'bodies cut mid-way').toBeGreaterThan(0);
    expect(stats.byMethod.POST, 'multipart uploads (CreateMultipartUpload, CompleteMultipartUpload)').toBeGreaterThan(0);
    expect(proxy.totalFaults() / stats.requests).toBeGreaterThan(0.05);
  });

  it('at 100% faults archive, restore, verify and prune fail after bounded retries, naming the object and the fault', async () => {
    const { bucket, volA } = await repositoryWith(1);
    const proxy = await startFaultProxy({
      target: bucket.endpoint,
      seed: 7,
      rates: { 'slow-down': 0.25, 'internal-error': 0.25, reset: 0.25, truncate: 0.25 },
    });
    try {
      const env = through(proxy, bucket, { AWS_MAX_ATTEMPTS: String(FEW_ATTEMPTS) });
      const fault =
        /S3 \w+ s3:\/\/test-[0-9a-f]+\/repo key \S+ failed after \d+ attempts \([^)]*(SlowDown|InternalError|ECONNRESET|aborted)|body ended after \d+ of \d+ bytes/;
      const commands: Array<[string, string[]]> = [
        ['archive', ['archive', image2, '--volume-id', 'vol-a']],
        ['restore', ['restore', '--snapshot', 'latest', '--volume-id', 'vol-a', '--to', join(work, 'never.img')]],
        ['verify', ['verify']],
        ['prune', ['forget', '--all', '--keep-last', '1', '--prune']],
      ];
      for (const [what, args] of commands) {
        const seen = proxy.stats.requests;
        const r = await runCli(args, env);
        expectClearFailure(r, what, fault);
        const requests = proxy.stats.requests - seen;
        console.log(`100% faults, ${what}: ${requests} requests; ${snapfleetStderr(r.stderr)}`);
        // Opening the repository reads `config` first, and that one get is all a command tries:
        // the store's attempts at a broken body times the SDK's attempts at each.
        expect(requests, what).toBeGreaterThan(0);
        expect(requests, what).toBeLessThanOrEqual(FEW_ATTEMPTS * FEW_ATTEMPTS);
      }
      expect((await readdir(work)).filter((n) => n.includes('never'))).toEqual([]);
    } finally {
      await proxy.close();
    }
    expect(await snapshotIds(direct(bucket))).toEqual([volA]);
    await expectVerifyClean(direct(bucket), 'after the failed commands');
  });

  it('with every write of a pack faulted archive and prune fail, and nothing half-written shows', async () => {
    const { bucket, volA, volB } = await repositoryWith(2);
    // Without the proxy: vol-a's snapshot goes, so prune has packs to delete.
    expectOk(await runCli(['forget', volA], direct(bucket)), 'forget vol-a');
    // Leases, snapshots and index objects go through, so the commands get as far as their packs;
    // half of the faults come after the server stored the pack or deleted it. (No SlowDown here:
    // its 1 s backoff is met above.)
    const packWrite = (r: { method: string; url: string }) => r.method !== 'GET' && r.method !== 'HEAD' && r.url.includes('/repo/data/');
    const proxy = await startFaultProxy({ target: bucket.endpoint, seed: 8, only: packWrite, rates: { 'internal-error': 0.5, reset: 0.5 } });
    try {
      const env = through(proxy, bucket, { AWS_MAX_ATTEMPTS: String(FEW_ATTEMPTS) });
      const a = await runCli(['archive', image2, '--volume-id', 'vol-a', ...SMALL_PACKS], env);
      expectClearFailure(a, 'archive', /S3 put s3:\/\/test-[0-9a-f]+\/repo key data\/\S+ failed after \d+ attempts \((InternalError|ECONNRESET)/);
      console.log(`100% pack write faults, archive: ${JSON.stringify(proxy.stats.byMethod)}; ${snapfleetStderr(a.stderr)}`);
      // Each pack in flight is tried FEW_ATTEMPTS times; the archive stops at the first that fails.
      expect(proxy.stats.byMethod.PUT).toBeGreaterThanOrEqual(FEW_ATTEMPTS);
      expect(proxy.stats.byMethod.PUT).toBeLessThanOrEqual(8 * FEW_ATTEMPTS);

      const p = await runCli(['prune'], env);
      expectClearFailure(p, 'prune', /S3 (put|delete) s3:\/\/test-[0-9a-f]+\/repo key data\/\S+ failed after \d+ attempts/);
      console.log(`100% pack write faults, then prune: ${JSON.stringify(proxy.stats)}; ${snapfleetStderr(p.stderr)}`);
    } finally {
      await proxy.close();
    }
    // The archive's snapshot is written last, after every pack it needs: none is there, and what
    // the failed archive and prune left is sound.
    expect(await snapshotIds(direct(bucket))).toEqual([volB!]);
    await expectVerifyClean(direct(bucket), 'after the failed writes');
    await expectRestores(direct(bucket), volB!, image3, 'after the failed writes');
  });
});
