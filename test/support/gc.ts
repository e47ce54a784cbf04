/**
 * Helpers for the garbage-collection end-to-end tests (test/e2e/gc-*.test.ts): a repository on
 * a folder or on the test S3 server, driven through the built CLI; a seeded random source; and
 * the checks every GC test ends with (verify is clean, every remaining snapshot restores to the
 * exact bytes of the image it was taken from).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { openBlobStore } from '@snapfleet/providers';
import type { BlobData, BlobStore, ByteRange, ObjectInfo, PruneReport, PutOptions } from '@snapfleet/shared';
import { createTestBucket } from '@snapfleet/shared/testing';
import { createImage, describeRun, parseJson, runCli, sha256File, spawnCli, type CliEnv, type CliResult } from './cli.js';

export type StoreKind = 'folder' | 's3';

export interface RepoTarget {
  kind: StoreKind;
  /** The repository as given to --repo / SNAPFLEET_REPOSITORY. */
  repoUrl: string;
  /** Environment for CLI runs: repository, password, and the S3 variables when needed. */
  env: CliEnv;
  /** The same environment for openBlobStore (no undefined values). */
  storeEnv: Record<string, string>;
}

/**
 * A new, initialised, encrypted repository: `dir/repo` for a folder, a fresh bucket for S3.
 * With `init: false` the location is left empty (for copyRepository).
 */
export async function createRepoTarget(kind: StoreKind, dir: string, password: string, options: { init?: boolean } = {}): Promise<RepoTarget> {
  let repoUrl: string;
  let storeEnv: Record<string, string> = {};
  if (kind === 'folder') {
    repoUrl = join(dir, 'repo');
  } else {
    const bucket = await createTestBucket({ prefix: 'gc' });
    repoUrl = bucket.repoUrl;
    storeEnv = bucket.env;
  }
  // NODE_NO_WARNINGS: the AWS SDK's Node 20 support warning is not snapfleet's output.
  const env: CliEnv = { ...storeEnv, SNAPFLEET_REPOSITORY: repoUrl, SNAPFLEET_PASSWORD: password, NODE_NO_WARNINGS: '1' };
  if (options.init !== false) {
    const init = await runCli(['init', '--json'], env);
    expect(init.code, describeRun(init)).toBe(0);
  }
  return { kind, repoUrl, env, storeEnv };
}

/** Copies every object of one repository into another (empty) location, on any store kinds. */
export async function copyRepository(from: RepoTarget, to: RepoTarget): Promise<number> {
  const src = await openBlobStore(from.repoUrl, from.storeEnv);
  const dst = await openBlobStore(to.repoUrl, to.storeEnv);
  let n = 0;
  for (const prefix of ['config', 'keys/', 'data/', 'index/', 'packlists/', 'snapshots/', 'locks/', 'prune/']) {
    for await (const o of src.list(prefix)) {
      if (prefix === 'config' && o.key !== 'config') continue;
      await dst.put(o.key, await src.get(o.key));
      n++;
    }
  }
  return n;
}

export interface StoredObject {
  key: string;
  size: number;
}

/** The repository's objects under `prefix` (data/, index/, prune/, locks/, snapshots/). */
export async function listObjects(target: RepoTarget, prefix: string): Promise<StoredObject[]> {
  const store = await openBlobStore(target.repoUrl, target.storeEnv);
  const out: StoredObject[] = [];
  for await (const o of store.list(prefix)) out.push({ key: o.key, size: o.size });
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

const PACK_KEY = /^data\/[0-9a-f]{2}\/[0-9a-f]{64}$/;

/** Finished packs (`data/xx/<64 hex>`) and their total size: what the repository's data costs. */
export async function packStats(target: RepoTarget): Promise<{ packs: number; bytes: number; ids: Set<string> }> {
  const packs = (await listObjects(target, 'data/')).filter((o) => PACK_KEY.test(o.key));
  return { packs: packs.length, bytes: packs.reduce((a, o) => a + o.size, 0), ids: new Set(packs.map((o) => o.key.slice(-64))) };
}

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi]. */
export function randomInt(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** `archive --json` output (docs/cli.md). */
export interface ArchiveJson {
  snapshot: string;
  volumeId: string;
  parent: string | null;
  sizeBytes: number;
  newBlobs: number;
  newBytes: number;
  storedBytes: number;
}

/** The prune report (`prune --json`, or the `prune` field of `forget --prune --json`): the engine's own type. */
export type PruneJson = PruneReport;

export interface ForgetJson {
  dryRun: boolean;
  volumes: { volumeId: string; keep: { id: string; time: string }[]; remove: { id: string; time: string }[] }[];
  prune?: PruneJson;
}

export interface SnapshotJson {
  id: string;
  volumeId: string;
  time: string;
  stats: { storedBytes: number };
}

/** What a snapshot was taken of: its image's sha256 at archive time. */
export interface ArchivedSnapshot {
  id: string;
  volumeId: string;
  time: string;
  sha256: string;
  storedBytes: number;
}

/** Runs `archive --json` of `image` (which must not change meanwhile); does not judge the result. */
export async function runArchive(
  env: CliEnv,
  image: string,
  volumeId: string,
  time: string,
  extra: string[] = [],
): Promise<{ run: CliResult; snapshot?: ArchivedSnapshot }> {
  const sha256 = await sha256File(image);
  const run = await runCli(['archive', image, '--volume-id', volumeId, '--time', time, '--json', ...extra], env);
  if (run.code !== 0) return { run };
  const json = parseJson<ArchiveJson>(run);
  expect(await sha256File(image), `${image} changed while it was archived`).toBe(sha256);
  return { run, snapshot: { id: json.snapshot, volumeId, time, sha256, storedBytes: json.storedBytes } };
}

/** Archives `image` (which must not change meanwhile) and records the image's sha256. */
export async function archiveImage(env: CliEnv, image: string, volumeId: string, time: string, extra: string[] = []): Promise<ArchivedSnapshot> {
  const { run, snapshot } = await runArchive(env, image, volumeId, time, extra);
  expect(run.code, `archive ${volumeId} @ ${time}\n${describeRun(run)}`).toBe(0);
  return snapshot!;
}

export async function listSnapshots(env: CliEnv): Promise<SnapshotJson[]> {
  const r = await runCli(['snapshots', '--json'], env);
  expect(r.code, describeRun(r)).toBe(0);
  return parseJson<SnapshotJson[]>(r);
}

export interface VerifyJson {
  snapshots: number;
  packsTotal: number;
  packsRead: number;
  blobsChecked: number;
  bytesRead: number;
  problems: { kind: string; severity?: string }[];
}

/** `verify` (all packs read) must exit 0 with no problems. */
export async function expectVerifyClean(env: CliEnv, context = '', options: { unindexedPacks?: 'allowed' } = {}): Promise<VerifyJson> {
  const r = await runCli(['verify', '--json'], env);
  const what = `verify ${context}\n${describeRun(r)}`;
  expect(r.code, what).toBe(0);
  const json = parseJson<VerifyJson>(r);
  // A prune killed between a repacked pack and its index object leaves the pack unindexed: a
  // notice, and the next prune adopts it (docs/format.md). Only a kill test's intermediate
  // checks allow it; its final check does not.
  const problems =
    options.unindexedPacks === 'allowed' ? json.problems.filter((p) => !(p.kind === 'unindexed-pack' && p.severity === 'notice')) : json.problems;
  expect(problems, what).toEqual([]);
  return json;
}

/**
 * Restores every snapshot the repository lists and compares it with the sha256 recorded when it
 * was archived. A snapshot nobody recorded is a failure too (prune must never invent one).
 * Returns the ids checked.
 */
export async function expectAllRestore(env: CliEnv, recorded: ReadonlyMap<string, ArchivedSnapshot>, scratchDir: string, context = ''): Promise<string[]> {
  const snapshots = await listSnapshots(env);
  const ids: string[] = [];
  for (const s of snapshots) {
    const want = recorded.get(s.id);
    expect(want, `${context}: snapshot ${s.id} (${s.volumeId} @ ${s.time}) was never archived by this test`).toBeDefined();
    const to = join(scratchDir, `restore-${s.id.slice(0, 12)}.img`);
    const r: CliResult = await runCli(['restore', '--snapshot', s.id, '--to', to, '--json'], env);
    expect(r.code, `${context}: restore ${s.id} (${s.volumeId} @ ${s.time})\n${describeRun(r)}`).toBe(0);
    expect(await sha256File(to), `${context}: snapshot ${s.id} (${s.volumeId} @ ${s.time}) restored to different bytes`).toBe(want!.sha256);
    await rm(to, { force: true });
    ids.push(s.id);
  }
  return ids;
}

/** ISO time `hours` after 2026-01-01T00:00Z: increasing capture times for retention to chew on. */
export function timeAt(hours: number): string {
  return new Date(Date.UTC(2026, 0, 1) + hours * 3_600_000).toISOString();
}

/**
 * A BlobStore that delegates to `inner`; `before` may run (and finish) something before a put or
 * a listing proceeds, or throw to simulate a crash at that exact point.
 */
export class HookedStore implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    private readonly before: (op: 'put' | 'list', key: string) => Promise<void>,
  ) {}
  get location(): string {
    return this.inner.location;
  }
  async put(key: string, data: BlobData, options?: PutOptions): Promise<void> {
    await this.before('put', key);
    return this.inner.put(key, data, options);
  }
  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.inner.get(key, range);
  }
  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(key);
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    await this.before('list', prefix);
    yield* this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

/** `count` mkimage volumes `dir/vol-<i>.img` of `sizeMiB`, seeded `seedBase + i`. */
export async function createVolumeImages(dir: string, count: number, sizeMiB: number, seedBase: number): Promise<string[]> {
  const images: string[] = [];
  for (let v = 0; v < count; v++) {
    images.push(join(dir, `vol-${v}.img`));
    await createImage(images[v]!, sizeMiB, seedBase + v);
  }
  return images;
}

/** Archives each image as volume `vol-<i>` at time 0: the snapshots the kill rounds start from, by id. */
export async function archiveVolumeImages(env: CliEnv, images: readonly string[], extra: string[] = []): Promise<Map<string, ArchivedSnapshot>> {
  const recorded = new Map<string, ArchivedSnapshot>();
  for (const [v, image] of images.entries()) {
    const s = await archiveImage(env, image, `vol-${v}`, timeAt(0), extra);
    recorded.set(s.id, s);
  }
  return recorded;
}

export interface KillPlan {
  /** Kill `delayMs` after the op's first visible write (`worked` says true), else `delayMs` after its start. */
  onWrites: boolean;
  delayMs: number;
  worked: () => Promise<boolean>;
  /** How often `worked` is asked. */
  pollMs: number;
}

/** Runs the CLI with `args` and SIGKILLs it as planned (unless it ends first); `how` describes the plan. */
export async function runKilled(args: string[], env: CliEnv, plan: KillPlan): Promise<{ result: CliResult; how: string }> {
  const { child, done } = spawnCli(args, env);
  let exited = false;
  void done.then(() => (exited = true));
  let timer: NodeJS.Timeout | undefined;
  if (plan.onWrites) {
    while (!exited && !(await plan.worked())) await sleep(plan.pollMs);
    if (!exited) timer = setTimeout(() => child.kill('SIGKILL'), plan.delayMs);
  } else {
    timer = setTimeout(() => child.kill('SIGKILL'), plan.delayMs);
  }
  const result = await done;
  clearTimeout(timer);
  return { result, how: plan.onWrites ? `${plan.delayMs} ms after its first write` : `after ${plan.delayMs} ms` };
}
