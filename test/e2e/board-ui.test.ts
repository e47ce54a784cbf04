/**
 * The operator board as it ships: the built `snapfleet board --config FILE` process over real
 * Redis, with jobs in every queue under a prefix of this test's own (all of whose keys are
 * deleted afterwards). It must answer 401 without credentials, serve the dashboard with them
 * (loaded in headless Chromium, screenshot in test/artifacts/board.png), and expose the job
 * counters on /metrics.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, removeDir, REPO_ROOT, spawnCli, type CliResult } from '../support/cli.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `sftest-boardui-${randomUUID().slice(0, 8)}`;
/** The fleet's queues as `snapfleet board` shows them: tick (the planner's schedulers) and the work queues. */
const QUEUES = ['tick', 'snapshot', 'archive', 'retention', 'verify'] as const;
const TOKEN = 'e2e-board-token-0123456789';
const VIEWER = { name: 'vera', password: 'viewer-pass-e2e' };
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = join(REPO_ROOT, 'test/artifacts/board.png');
/** The board listens within a second; 15 s means it is stuck. */
const START_TIMEOUT_MS = 15_000;
/** The dashboard renders in well under a second locally; generous for a loaded CI machine. */
const RENDER_TIMEOUT_MS = 15_000;

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

let dir: string;
let url: string;
let board: { child: import('node:child_process').ChildProcess; done: Promise<CliResult> };
const queues = new Map<string, Queue>();

beforeAll(async () => {
  for (const name of QUEUES) queues.set(name, new Queue(name, { connection: { url: REDIS_URL }, prefix: PREFIX }));
  await seedJobs();
  dir = await makeTempDir('board');
  const config = join(dir, 'fleet.yaml');
  await writeFile(
    config,
    [
      'board:',
      '  listen: "127.0.0.1:0"',
      '  auth:',
      `    token: "${TOKEN}"`,
      '    users:',
      `      - { name: ${VIEWER.name}, password: "${VIEWER.password}", role: viewer }`,
      '',
    ].join('\n'),
  );
  board = spawnCli(['board', '--config', config, '--prefix', PREFIX], { REDIS_URL });
  url = await listeningUrl(board.child);
});

afterAll(async () => {
  if (board && board.child.exitCode === null) {
    board.child.kill('SIGTERM');
    await board.done;
  }
  await Promise.all([...queues.values()].map((q) => q.close()));
  await deleteKeys(`${PREFIX}:*`);
  await removeDir(dir);
});

/** 3 waiting snapshots, 2 delayed archives, 1 completed retention, 1 failed verify. */
async function seedJobs(): Promise<void> {
  const q = (name: string) => queues.get(name)!;
  await q('snapshot').addBulk([1, 2, 3].map((i) => ({ name: 'snapshot', data: { volumeId: `vol-${i}` }, opts: { jobId: `snap-vol-${i}` } })));
  await q('archive').add('archive', { volumeId: 'vol-1' }, { jobId: 'arch-vol-1', delay: 3_600_000 });
  await q('archive').add('archive', { volumeId: 'vol-2' }, { jobId: 'arch-vol-2', delay: 3_600_000 });
  await q('retention').add('retention', { policy: 'daily' }, { jobId: 'ret-daily' });
  await q('verify').add('verify', { repo: 'main' }, { jobId: 'verify-main', attempts: 1 });
  await runOnce('retention', async () => 'ok', 'completed');
  await runOnce(
    'verify',
    async () => {
      throw new Error('pack 3f2a: checksum mismatch (test)');
    },
    'failed',
  );
}

/** Runs a worker on `queue` until one job ends in `event`. */
async function runOnce(queue: string, processor: () => Promise<unknown>, event: 'completed' | 'failed'): Promise<void> {
  const worker = new Worker(queue, processor, { connection: { url: REDIS_URL, maxRetriesPerRequest: null }, prefix: PREFIX });
  await new Promise<void>((resolve) => worker.once(event, () => resolve()));
  await worker.close();
}

/** Deletes this test's keys only (SCAN + DEL, never FLUSHALL: the Redis is shared). */
async function deleteKeys(pattern: string): Promise<void> {
  const client = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await client.quit();
  }
}

/** The board logs one JSON line with its URL when it listens; port 0 in the config picks a free port. */
function listeningUrl(child: import('node:child_process').ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`board did not start within ${START_TIMEOUT_MS} ms:\n${seen}`)), START_TIMEOUT_MS);
    child.stderr!.on('data', (chunk: string) => {
      seen += chunk;
      const match = /"msg":"board: listening","url":"(http:\/\/[^"]+)\/board\/"/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`board exited with ${code} before listening:\n${seen}`));
    });
  });
}

/** Prometheus text exposition -> { 'name{labels}': value }, comments skipped. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

describe('snapfleet board', () => {
  it('answers 401 without credentials and 200 with them', async () => {
    for (const path of ['/board/', '/api/queues', '/metrics']) {
      const anonymous = await fetch(`${url}${path}`);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), path).toContain('Basic');
      expect((await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, path).toBe(200);
      expect((await fetch(`${url}${path}`, { headers: { authorization: basic(VIEWER.name, VIEWER.password) } })).status, path).toBe(200);
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('refuses a viewer mutation with 403', async () => {
    const res = await fetch(`${url}/api/queues/archive/jobs/arch-vol-1/promote`, {
      method: 'POST',
      headers: { authorization: basic(VIEWER.name, VIEWER.password) },
    });
    expect(res.status).toBe(403);
    expect(await (await queues.get('archive')!.getJob('arch-vol-1'))!.getState()).toBe('delayed');
  });

  it('exposes the job counters on /metrics', async () => {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parsePrometheus(await res.text());
    const jobs = (queue: string, state: string) => samples.get(`snapfleet_queue_jobs{queue="${queue}",state="${state}"}`);
    expect(jobs('snapshot', 'waiting')).toBe(3);
    expect(jobs('archive', 'delayed')).toBe(2);
    expect(jobs('retention', 'completed')).toBe(1);
    expect(jobs('verify', 'failed')).toBe(1);
    expect(jobs('verify', 'active')).toBe(0);
    for (const queue of QUEUES) expect(samples.get(`snapfleet_queue_paused{queue="${queue}"}`)).toBe(0);
    expect(samples.get('snapfleet_board_redis_up')).toBe(1);
    // The workers' fleet-wide counters (none ran here, so zero) follow the queue counts.
    expect(samples.get('snapfleet_board_extra_metrics_up')).toBe(1);
    expect(samples.get('snapfleet_fleet_archive_bytes_total{kind="stored"}')).toBe(0);
  });

  it('serves the dashboard to an authenticated browser (headless Chromium)', async (ctx) => {
    if (!existsSync(CHROMIUM)) ctx.skip(`${CHROMIUM} is missing: apt-get install -y chromium to run the browser check`);
    const { chromium } = await import('playwright-core');
    let browser: import('playwright-core').Browser;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: START_TIMEOUT_MS });
    } catch (err) {
      ctx.skip(`Chromium at ${CHROMIUM} could not be launched here: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    try {
      // Without credentials the browser gets the 401 challenge (headless Chromium cancels it and
      // fails the navigation), never the dashboard.
      const anonymous = await browser.newPage();
      const outcome = await anonymous.goto(`${url}/board/`).then(
        (r) => `HTTP ${r?.status()}`,
        (err: Error) => err.message,
      );
      expect(outcome).toMatch(/HTTP 401|ERR_INVALID_AUTH_CREDENTIALS/);
      await anonymous.close();

      const context = await browser.newContext({ httpCredentials: { username: 'token', password: TOKEN }, viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const response = await page.goto(`${url}/board/`);
      expect(response?.status()).toBe(200);
      // The queue names render first in the sidebar, then as overview cards in <main> once the
      // counts have loaded from the board's API: wait for the cards, so the screenshot shows them.
      const main = page.locator('main');
      for (const name of QUEUES) await main.getByText(name, { exact: true }).first().waitFor({ state: 'visible', timeout: RENDER_TIMEOUT_MS });
      await main.getByText('Loading', { exact: false }).waitFor({ state: 'hidden', timeout: RENDER_TIMEOUT_MS });
      await expect(page.title()).resolves.toContain(`snapfleet (${PREFIX})`);
      await mkdir(join(REPO_ROOT, 'test/artifacts'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
      await context.close();
    } finally {
      await browser.close();
    }
  });

  it('stops on SIGTERM', async () => {
    board.child.kill('SIGTERM');
    const result = await board.done;
    expect(result.signal === null && result.code === 143, describeRun(result)).toBe(true);
    expect(result.stderr).not.toContain(TOKEN);
    expect(result.stderr).not.toContain(VIEWER.password);
  });
});
