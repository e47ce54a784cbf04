/**
 * Three `snapfleet worker` processes on one host, one SNAPFLEET_CACHE_DIR, one encrypted
 * repository on the test S3 server: the host's index cache is shared by every process on it.
 *
 * Two rounds of `backup-now` over six local volumes. In the first, the archives store the index
 * objects (and put each into the cache as they store it); in the second, every archive job opens
 * the repository again and reads the whole index. Then `snapfleet restore` (one snapshot per
 * volume) and `snapfleet verify`, processes that never stored anything, run over the same
 * cache folder.
 *
 * How the test knows what was served from the cache: each process talks to s3rver through a
 * recording HTTP proxy of its own (one port per worker, one for the CLI commands), so the test
 * sees every S3 request and which process made it. The cache answers GETs of index objects,
 * never listings, so a listing of `index/` is one opened index and a GET of `index/<id>` is a
 * miss. The second round lists the index once per archive job or more (refreshing the host
 * index table, which the archives look blobs up in) and GETs none of the index objects, objects
 * other workers stored among them; restore (which reads its snapshot's
 * pack list instead of the index) and verify (which reads the whole index) GET none either. No
 * process rewrote a cache file: each keeps the inode and mtime it had after the first round (a
 * miss writes a new file and renames it into place). Afterwards the folder holds exactly one file
 * per index object in the bucket, in the documented format ("SFC1", SHA-256 of key, 0x00 and
 * bytes, then the object's bytes as stored), and no temp files, beside one host index table
 * whose runs were built from exactly the bucket's index objects.
 */
import { createHash } from 'node:crypto';
import { request, createServer, type Server } from 'node:http';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBlobStore } from '@snapfleet/providers';
import { createTestBucket, type TestBucket } from '../setup/s3.js';
import { createImage, describeRun, listFiles, makeTempDir, parseJson, removeDir, runCli, sha256File, type CliEnv } from '../support/cli.js';
import {
  deletePrefix,
  fleetConfig,
  spawnFleet,
  stopFleet,
  uniquePrefix,
  SHARED_REDIS_URL,
  TEST_PASSWORD,
  type FleetProcess,
  type SnapshotJson,
} from '../support/fleet.js';
import { backupNow, waitForFlows } from '../support/aws-world/aws-fleet-run.js';

const VOLUMES = 6;
const IMAGE_MIB = 8;
const WORKERS = 3;
const REPO_PREFIX = 'shared';
/** A round takes seconds; a loaded 2-core machine may take several times as long. */
const ROUND_TIMEOUT_MS = 60_000;

/** One S3 request as the proxy saw it: which process, and what it asked for. */
interface S3Request {
  via: string;
  method: string;
  /** The object's key inside the repository (`index/<id>`), for object requests. */
  key?: string;
  /** The listed prefix inside the repository (`index/`), for ListObjectsV2. */
  listed?: string;
}

interface Proxy {
  url: string;
  server: Server;
}

/**
 * A plain HTTP relay to s3rver that records each request. Headers pass through untouched (the
 * SigV4 signature covers the Host header, which s3rver checks as the client sent it).
 */
function startProxy(via: string, target: URL, bucket: string, log: S3Request[]): Promise<Proxy> {
  const root = `/${bucket}/${REPO_PREFIX}/`;
  const repoRoot = `${REPO_PREFIX}/`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const path = decodeURIComponent(url.pathname);
    const entry: S3Request = { via, method: req.method ?? '' };
    if (path.startsWith(root)) entry.key = path.slice(root.length);
    else if ((path === `/${bucket}` || path === `/${bucket}/`) && url.searchParams.get('list-type') === '2') {
      const listed = url.searchParams.get('prefix') ?? '';
      if (listed.startsWith(repoRoot)) entry.listed = listed.slice(repoRoot.length);
    }
    log.push(entry);
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server }));
  });
}

function closeProxy(p: Proxy): Promise<void> {
  p.server.closeAllConnections();
  return new Promise((resolve) => p.server.close(() => resolve()));
}

const isIndexKey = (key: string | undefined): key is string => key !== undefined && /^index\/[0-9a-f]{64}$/.test(key);
const indexGets = (log: S3Request[]) => log.filter((r) => r.method === 'GET' && isIndexKey(r.key));
const indexPuts = (log: S3Request[]) => log.filter((r) => r.method === 'PUT' && isIndexKey(r.key));
const indexListings = (log: S3Request[]) => log.filter((r) => r.method === 'GET' && r.listed === 'index/');

interface LogLine {
  msg?: string;
  level?: number;
}

function logLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** Inode and mtime of every file under the cache root: a rewritten file gets a new inode. */
/** The host index table's files (docs/operations.md): beside the cached objects, not among them. */
const isTableFile = (f: string) => f.split('/')[1] === 'index-table';

/** Inode and mtime of each cached index object's file. */
async function fileStamps(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of (await listFiles(dir)).filter((x) => !isTableFile(x))) {
    const s = await stat(join(dir, f), { bigint: true });
    out.set(f, `${s.ino}:${s.mtimeNs}`);
  }
  return out;
}

describe('three workers on one host share one index cache (S3)', () => {
  let dir: string;
  let bucket: TestBucket;
  let cacheRoot: string;
  let passwordFile: string;
  let config: string;
  let volumes: { id: string; path: string }[];
  /** Reads of the bucket by the test itself: straight to s3rver, no cache. */
  let directEnv: CliEnv;
  const prefix = uniquePrefix('shared-cache');
  const requests: S3Request[] = [];
  const proxies: Proxy[] = [];
  const workers: FleetProcess[] = [];

  /** The environment of a process that reaches the bucket through `proxy`, with the shared cache. */
  const processEnv = (proxy: Proxy): CliEnv => ({
    ...bucket.env,
    AWS_ENDPOINT_URL_S3: proxy.url,
    SNAPFLEET_CACHE_DIR: cacheRoot,
    REDIS_URL: SHARED_REDIS_URL,
    SNAPFLEET_LOG_LEVEL: 'info',
    NODE_NO_WARNINGS: '1',
  });

  beforeAll(async () => {
    dir = await makeTempDir('fleet-shared-cache');
    cacheRoot = join(dir, 'cache');
    bucket = await createTestBucket({ prefix: REPO_PREFIX });
    directEnv = { ...bucket.env, SNAPFLEET_CACHE_DIR: 'off', NODE_NO_WARNINGS: '1' };
    passwordFile = join(dir, 'password');
    await writeFile(passwordFile, TEST_PASSWORD + '\n');
    volumes = Array.from({ length: VOLUMES }, (_, i) => ({ id: `vol-${i + 1}`, path: join(dir, `vol-${i + 1}.img`) }));
    await Promise.all(volumes.map((v, i) => createImage(v.path, IMAGE_MIB, 700 + i)));
    const init = await runCli(['init', '--repo', bucket.repoUrl, '--password-file', passwordFile], directEnv);
    expect(init.code, describeRun(init)).toBe(0);
    config = join(dir, 'fleet.yaml');
    await writeFile(config, JSON.stringify(fleetConfig({ dir, repo: bucket.repoUrl, passwordFile, volumes }), null, 2));
    const target = new URL(bucket.endpoint);
    for (let i = 1; i <= WORKERS; i++) proxies.push(await startProxy(`worker-${i}`, target, bucket.bucket, requests));
    proxies.push(await startProxy('cli', target, bucket.bucket, requests));
  });

  afterAll(async () => {
    // Whatever happened above, no worker outlives the test: SIGTERM, SIGKILL after 5 s.
    await Promise.allSettled(workers.map((w) => stopFleet(w, 5_000)));
    await Promise.allSettled(proxies.map(closeProxy));
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  it('archives twice, restores and verifies, and never fetches an index object the host has cached', async () => {
    for (let i = 0; i < WORKERS; i++) workers.push(spawnFleet(['worker', '--config', config, '--prefix', prefix], processEnv(proxies[i]!)));
    const fleetEnv = { REDIS_URL: SHARED_REDIS_URL, NODE_NO_WARNINGS: '1' };

    // Round 1: every index object is stored now, by whichever worker archived its pack.
    const first = await backupNow(config, 'every', prefix, fleetEnv);
    expect(first.map((f) => f.volumeId).sort()).toEqual(volumes.map((v) => v.id).sort());
    await waitForFlows(prefix, first, ROUND_TIMEOUT_MS);
    const roundOne = requests.splice(0);
    const storedBy = new Map(indexPuts(roundOne).map((r) => [r.key!, r.via]));
    expect(storedBy.size).toBeGreaterThan(0);
    // The cache folder is named after the repository's location (docs/operations.md): each
    // stored object has its file there, put in by the worker that stored it or a later reader.
    const storeFolder = createHash('sha256').update(bucket.repoUrl).digest('hex').slice(0, 16);
    const afterFirst = await fileStamps(cacheRoot);
    expect([...afterFirst.keys()]).toEqual([...storedBy.keys()].map((k) => `${storeFolder}/${k}`).sort());

    // Round 2: a new slot (backup-now's slot is the current second; round 1 took longer).
    const second = await backupNow(config, 'every', prefix, fleetEnv);
    expect(second.map((f) => f.archiveJobId).filter((id) => first.some((f) => f.archiveJobId === id))).toEqual([]);
    await waitForFlows(prefix, second, ROUND_TIMEOUT_MS);
    const roundTwo = requests.splice(0);

    // Every archive job listed the index (opened it) ...
    const opens = indexListings(roundTwo);
    expect(opens.length).toBeGreaterThanOrEqual(VOLUMES);
    // ... and fetched none of it: no GET of any index object, from any worker.
    expect(indexGets(roundTwo)).toEqual([]);
    // So objects one worker stored were served to another from the cache. BullMQ decides which
    // worker runs which job: count, over the workers that opened the index in round 2, the
    // objects another worker stored.
    const openedBy = new Set(opens.map((r) => r.via));
    const servedAcross = [...openedBy].flatMap((via) => [...storedBy].filter(([, writer]) => writer !== via));
    expect(servedAcross.length).toBeGreaterThan(0);
    // No process wrote a cache file again: same inode and mtime as after round 1.
    const afterSecond = await fileStamps(cacheRoot);
    for (const [file, stamp] of afterFirst) expect(afterSecond.get(file), file).toBe(stamp);

    // Every volume has a snapshot per round.
    const list = await runCli(['snapshots', '--repo', bucket.repoUrl, '--password-file', passwordFile, '--json'], directEnv);
    expect(list.code, describeRun(list)).toBe(0);
    const snapshots = parseJson<SnapshotJson[]>(list);
    for (const v of volumes)
      expect(
        snapshots.filter((s) => s.volumeId === v.id),
        v.id,
      ).toHaveLength(2);

    // The bucket's index objects, and the cache folder: one valid file each, nothing else.
    const store = await openBlobStore(bucket.repoUrl, directEnv);
    const indexKeys: string[] = [];
    for await (const o of store.list('index/')) indexKeys.push(o.key);
    indexKeys.sort();
    expect(indexKeys.length).toBeGreaterThanOrEqual(storedBy.size);
    const all = await listFiles(cacheRoot);
    const files = all.filter((f) => !isTableFile(f));
    expect(
      files.filter((f) => f.includes('.tmp-')),
      'temp files left',
    ).toEqual([]);
    expect(files).toEqual(indexKeys.map((k) => `${storeFolder}/${k}`));
    // One host index table for the repository, which every archive job refreshed: its runs were
    // built from the bucket's index objects (all but those stored after the last refresh).
    const tables = [...new Set(all.filter(isTableFile).map((f) => f.split('/').slice(0, 3).join('/')))];
    expect(tables).toHaveLength(1);
    const state = JSON.parse(await readFile(join(cacheRoot, tables[0]!, 'state.json'), 'utf8')) as { runs: { sources: string[] }[] };
    const sources = state.runs.flatMap((r) => r.sources);
    expect(sources.length).toBeGreaterThanOrEqual(storedBy.size);
    expect(
      sources.filter((k) => !indexKeys.includes(k)),
      'table sources not in the bucket',
    ).toEqual([]);
    expect(
      all.filter((f) => isTableFile(f) && f.endsWith('.tmp')),
      'table temp files left',
    ).toEqual([]);
    for (const key of indexKeys) {
      const file = await readFile(join(cacheRoot, storeFolder, key));
      const stored = await store.get(key);
      expect(file.subarray(0, 4).toString('latin1'), key).toBe('SFC1');
      const digest = createHash('sha256').update(key).update(Uint8Array.of(0)).update(stored).digest();
      expect(Buffer.from(file.subarray(4, 36)).equals(digest), `${key}: checksum`).toBe(true);
      expect(Buffer.from(file.subarray(36)).equals(Buffer.from(stored)), `${key}: bytes`).toBe(true);
    }

    // Restores by another process over the same cache: byte-identical.
    const cliEnv = processEnv(proxies[WORKERS]!);
    const latest = volumes.map((v) => snapshots.filter((s) => s.volumeId === v.id).sort((a, b) => b.time.localeCompare(a.time))[0]!);
    for (let i = 0; i < latest.length; i += 3) {
      await Promise.all(
        latest.slice(i, i + 3).map(async (snap) => {
          const to = join(dir, `${snap.volumeId}.restored`);
          const r = await runCli(['restore', '--repo', bucket.repoUrl, '--password-file', passwordFile, '--snapshot', snap.id, '--to', to], cliEnv);
          expect(r.code, describeRun(r)).toBe(0);
          expect(await sha256File(to), snap.volumeId).toBe(await sha256File(volumes.find((v) => v.id === snap.volumeId)!.path));
        }),
      );
    }
    // A restore reads its snapshot's pack list, not the index (docs/format.md, "Pack list"):
    // none of the index is fetched.
    expect(indexGets(requests.splice(0))).toEqual([]);
    // A verify of the whole repository, another process again, reads the whole index: from the
    // cache, listed and not one object fetched.
    const verify = await runCli(['verify', '--repo', bucket.repoUrl, '--password-file', passwordFile, '--json'], cliEnv);
    expect(verify.code, describeRun(verify)).toBe(0);
    expect(parseJson<{ problems: unknown[] }>(verify).problems).toEqual([]);
    const verifyRequests = requests.splice(0);
    expect(indexListings(verifyRequests).length).toBeGreaterThan(0);
    expect(indexGets(verifyRequests)).toEqual([]);
    const afterRestores = await fileStamps(cacheRoot);
    for (const [file, stamp] of afterFirst) expect(afterRestores.get(file), file).toBe(stamp);

    // Graceful stop; no job failed or retried, and the cache never complained.
    const results = await Promise.all(workers.map((w) => stopFleet(w)));
    for (const [i, r] of results.entries()) {
      // 143: stopped by SIGTERM after a clean shutdown (docs/operations.md); not killed.
      expect([r.code, r.signal], `worker-${i + 1}\n${r.stderr}`).toEqual([143, null]);
      const lines = logLines(r.stderr);
      expect(
        lines.filter((l) => (l.level ?? 0) >= 40),
        `worker-${i + 1} warnings and errors`,
      ).toEqual([]);
      expect(
        lines.some((l) => l.msg === 'worker closed'),
        `worker-${i + 1}`,
      ).toBe(true);
    }
    for (const w of workers) expect(w.child.exitCode !== null || w.child.signalCode !== null).toBe(true);
  });
});
