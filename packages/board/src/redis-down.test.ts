/**
 * With Redis away the board stays up and says so: /healthz 200, /readyz 503 fast, the API 503,
 * Bull Board's API 503 (its page still loads), /metrics 200 with snapfleet_board_redis_up 0. Points at a port nothing listens on (never
 * touches the shared Redis), then at a server that accepts connections and never answers: the
 * connection then stays between connected and ready, the state a reconnect attempt passes through.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** A board on a loopback port of its own whose Redis is at 127.0.0.1:`redisPort`. */
function boardFor(redisPort: number, prefix: string): Promise<RunningBoard> {
  return startBoard({
    connection: `redis://127.0.0.1:${redisPort}`,
    prefix,
    queueNames: ['snapshot'],
    auth: { token: TOKEN },
    listen: { host: '127.0.0.1', port: 0 },
  });
}

beforeAll(async () => {
  board = await boardFor(await unusedPort(), 'sftest-board-down');
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

describe('Redis that accepts connections and never answers', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  let stuck: RunningBoard;

  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    stuck = await boardFor((silent.address() as { port: number }).port, 'sftest-board-silent');
  });

  afterAll(async () => {
    await stuck?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
  });

  it('answers 503 within its deadlines instead of waiting for Redis to become ready', async () => {
    // A hang fails here, in seconds, rather than at the test's timeout.
    const get = (path: string) => fetch(`${stuck.url}${path}`, { headers, signal: AbortSignal.timeout(15_000) });
    for (const path of ['/readyz', '/api/queues', '/board/api/queues']) {
      const t0 = Date.now();
      expect((await get(path)).status, path).toBe(503);
      expect(Date.now() - t0, path).toBeLessThan(10_000);
    }
  });
});
