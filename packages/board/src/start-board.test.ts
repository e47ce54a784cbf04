/**
 * The board over real Redis (127.0.0.1:6379, or REDIS_URL), each test file under its own BullMQ
 * prefix, every key of which is deleted afterwards: roles, status codes and the job actions.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBoard } from './start-board.js';
import type { BoardLogger, RunningBoard } from './board-options.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `sftest-board-${randomUUID().slice(0, 8)}`;
const TOKEN = 'operator-token-0123456789';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const VIEWER = basic('vera', 'viewer-pass');
const OPERATOR = basic('otto', 'operator-pass');
const BEARER = `Bearer ${TOKEN}`;

let board: RunningBoard;
let redis: Redis;
const queues: Queue[] = [];
const logged: string[] = [];
const log: BoardLogger = {
  info: (o, m) => logged.push(JSON.stringify([m, o])),
  warn: (o, m) => logged.push(JSON.stringify([m, o])),
  error: (o, m) => logged.push(JSON.stringify([m, o])),
};

async function deleteKeys(prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

const get = (path: string, authorization?: string) => fetch(`${board.url}${path}`, { headers: authorization ? { authorization } : {} });
const post = (path: string, authorization?: string, headers: Record<string, string> = {}) =>
  fetch(`${board.url}${path}`, { method: 'POST', headers: { ...(authorization ? { authorization } : {}), ...headers } });

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  for (const name of ['snapshot', 'archive']) queues.push(new Queue(name, { connection: { url: REDIS_URL }, prefix: PREFIX }));
  board = await startBoard({
    connection: REDIS_URL,
    prefix: PREFIX,
    queueNames: ['snapshot', 'archive'],
    auth: {
      token: TOKEN,
      users: [
        { name: 'vera', password: 'viewer-pass', role: 'viewer' },
        { name: 'otto', password: 'operator-pass', role: 'operator' },
      ],
    },
    listen: { host: '127.0.0.1', port: 0 },
    log,
  });
});

afterAll(async () => {
  await board?.close();
  await Promise.all(queues.map((q) => q.close()));
  await deleteKeys(PREFIX);
  await redis.quit();
});

describe('authentication', () => {
  it('answers 401 with a challenge on every protected path without credentials', async () => {
    for (const path of ['/board/', '/board/api/queues', '/api/queues', '/metrics']) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate'), path).toMatch(/Basic realm="snapfleet board"/);
    }
  });

  it('answers 401 for wrong credentials and logs the user name but never the secret', async () => {
    expect((await get('/api/queues', basic('vera', 'wrong-password-x'))).status).toBe(401);
    expect(await get('/api/queues', 'Bearer not-the-token-at-all')).toHaveProperty('status', 401);
    const text = logged.join('\n');
    expect(text).toContain('vera');
    expect(text).not.toContain('wrong-password-x');
    expect(text).not.toContain('not-the-token-at-all');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('viewer-pass');
  });

  it('serves the probes without credentials', async () => {
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('serves the dashboard, the API and the metrics to viewers and operators', async () => {
    for (const credentials of [VIEWER, OPERATOR, BEARER]) {
      const page = await get('/board/', credentials);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      expect((await get('/api/queues', credentials)).status).toBe(200);
      expect((await get('/metrics', credentials)).status).toBe(200);
    }
  });

  it('gives viewers a read-only board and operators a full one', async () => {
    const view = (await (await get('/board/api/queues', VIEWER)).json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(view.queues.map((q) => q.readOnlyMode)).toEqual([true, true]);
    const op = (await (await get('/board/api/queues', OPERATOR)).json()) as { queues: { readOnlyMode: boolean }[] };
    expect(op.queues.map((q) => q.readOnlyMode)).toEqual([false, false]);
    // Bull Board's own mutating API is refused to viewers.
    const res = await fetch(`${board.url}/board/api/queues/snapshot/pause`, { method: 'PUT', headers: { authorization: VIEWER } });
    expect(res.status).toBe(403);
    expect(await queues[0]!.isPaused()).toBe(false);
  });
});

describe('ops API', () => {
  it('lists counts per queue', async () => {
    await queues[0]!.add('snap', { volumeId: 'vol-1' }, { jobId: 'count-1' });
    const body = (await (await get('/api/queues', VIEWER)).json()) as { prefix: string; queues: { name: string; counts: Record<string, number> }[] };
    expect(body.prefix).toBe(PREFIX);
    expect(body.queues.map((q) => q.name)).toEqual(['snapshot', 'archive']);
    expect(body.queues[0]!.counts.waiting).toBeGreaterThanOrEqual(1);
  });

  it('answers 403 to a viewer asking for a mutation, and leaves the job alone', async () => {
    await queues[1]!.add('arch', {}, { jobId: 'delayed-1', delay: 3_600_000 });
    for (const action of ['retry', 'remove', 'promote']) {
      expect((await post(`/api/queues/archive/jobs/delayed-1/${action}`, VIEWER)).status, action).toBe(403);
    }
    expect(await (await queues[1]!.getJob('delayed-1'))!.getState()).toBe('delayed');
  });

  it('lets operators promote, remove and retry, with 404 / 409 where they do not apply', async () => {
    expect((await post('/api/queues/archive/jobs/delayed-1/promote', OPERATOR)).status).toBe(200);
    expect(await (await queues[1]!.getJob('delayed-1'))!.getState()).toBe('waiting');
    expect((await post('/api/queues/archive/jobs/delayed-1/promote', BEARER)).status).toBe(409);
    expect((await post('/api/queues/archive/jobs/delayed-1/remove', BEARER)).status).toBe(200);
    expect(await queues[1]!.getJob('delayed-1')).toBeUndefined();
    expect((await post('/api/queues/archive/jobs/delayed-1/remove', OPERATOR)).status).toBe(404);
    expect((await post('/api/queues/nosuch/jobs/x/retry', OPERATOR)).status).toBe(404);
    expect((await post('/api/queues/archive/jobs/x/explode', OPERATOR)).status).toBe(404);

    // A failed job, made by a worker whose processor throws; then retried by an operator.
    await queues[1]!.add('arch', {}, { jobId: 'failing-1', attempts: 1 });
    const worker = new Worker(
      'archive',
      async () => {
        throw new Error('boom');
      },
      { connection: { url: REDIS_URL, maxRetriesPerRequest: null }, prefix: PREFIX },
    );
    await new Promise<void>((resolve) => worker.on('failed', () => resolve()));
    await worker.close();
    expect(await (await queues[1]!.getJob('failing-1'))!.getState()).toBe('failed');
    const res = await post('/api/queues/archive/jobs/failing-1/retry', OPERATOR);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, action: 'retry', previousState: 'failed' });
    expect(await (await queues[1]!.getJob('failing-1'))!.getState()).toBe('waiting');
    expect(logged.join('\n')).toContain('"user":"otto"');
  });

  it('refuses cross-site mutations even with valid credentials', async () => {
    await queues[1]!.add('arch', {}, { jobId: 'delayed-2', delay: 3_600_000 });
    const cross = await post('/api/queues/archive/jobs/delayed-2/promote', OPERATOR, { 'sec-fetch-site': 'cross-site' });
    expect(cross.status).toBe(403);
    const foreign = await post('/api/queues/archive/jobs/delayed-2/promote', OPERATOR, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await (await queues[1]!.getJob('delayed-2'))!.getState()).toBe('delayed');
  });
});

describe('metrics', () => {
  it('exposes job counts by queue and state', async () => {
    const text = await (await get('/metrics', BEARER)).text();
    expect(text).toMatch(/^snapfleet_queue_jobs\{queue="snapshot",state="waiting"\} [1-9]\d*$/m);
    expect(text).toMatch(/^snapfleet_queue_jobs\{queue="archive",state="delayed"\} 1$/m);
    expect(text).toMatch(/^snapfleet_board_redis_up 1$/m);
  });
});

describe('start-up', () => {
  it('refuses to start without any authentication configured', async () => {
    await expect(
      startBoard({ connection: REDIS_URL, prefix: PREFIX, queueNames: ['snapshot'], auth: {}, listen: { host: '127.0.0.1', port: 0 } }),
    ).rejects.toThrow(/anonymous/);
  });

  it('serves anonymous viewers only when configured, and appends extraMetrics', async () => {
    const open = await startBoard({
      connection: REDIS_URL,
      prefix: PREFIX,
      queueNames: ['snapshot'],
      auth: { anonymous: true },
      listen: { host: '127.0.0.1', port: 0 },
      extraMetrics: async ({ prefix }) => ({ [`snapfleet_fleet_jobs_completed_total{prefix="${prefix}"}`]: 7 }),
    });
    try {
      expect((await fetch(`${open.url}/board/`)).status).toBe(200);
      expect((await fetch(`${open.url}/api/queues/snapshot/jobs/count-1/remove`, { method: 'POST' })).status).toBe(403);
      const text = await (await fetch(`${open.url}/metrics`)).text();
      expect(text).toContain(`snapfleet_fleet_jobs_completed_total{prefix="${PREFIX}"} 7`);
      expect(text).toMatch(/^snapfleet_board_extra_metrics_up 1$/m);
    } finally {
      await open.close();
    }
  });
});
