/**
 * With Redis away the board stays up and says so: /healthz 200, /readyz 503 fast, the API 503,
 * Bull Board's API 503 (its page still loads), /metrics 200 with snapfleet_board_redis_up 0. Points at a port nothing listens on (never
 * touches the shared Redis).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBoard } from './start-board.js';
import type { RunningBoard } from './board-options.js';

const TOKEN = 'redis-down-token-0123456789';
const headers = { authorization: `Bearer ${TOKEN}` };
let board: RunningBoard;

/** A port that was free a moment ago: nothing listens on it. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  board = await startBoard({
    connection: `redis://127.0.0.1:${await unusedPort()}`,
    prefix: 'sftest-board-down',
    queueNames: ['snapshot'],
    auth: { token: TOKEN },
    listen: { host: '127.0.0.1', port: 0 },
  });
});

afterAll(async () => {
  await board?.close();
});

it('stays alive, reports not ready, and answers 503 instead of hanging', async () => {
  expect((await fetch(`${board.url}/healthz`)).status).toBe(200);
  const t0 = Date.now();
  const ready = await fetch(`${board.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ status: 'unavailable', redis: 'unreachable' });
  expect(Date.now() - t0).toBeLessThan(3_000);
  expect((await fetch(`${board.url}/api/queues`, { headers })).status).toBe(503);
  expect((await fetch(`${board.url}/board/api/queues`, { headers })).status).toBe(503);
  expect((await fetch(`${board.url}/board/`, { headers })).status).toBe(200);
  const metrics = await fetch(`${board.url}/metrics`, { headers });
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(/^snapfleet_board_redis_up 0$/m);
});
