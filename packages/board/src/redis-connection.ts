/**
 * The board's one Redis connection, shared by every queue it shows. The board is a producer in
 * BullMQ's terms, so per its production guide commands fail fast while Redis is away
 * (enableOfflineQueue: false) instead of piling up: /readyz and the API answer 503 at once and
 * the client keeps reconnecting in the background.
 */
import { once } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { BoardLogger } from './board-options.js';

/** Time for a readiness PING; a probe must answer well inside a typical 1-5 s probe timeout. */
export const PING_TIMEOUT_MS = 1_000;
/** Longest a queue read may take before the request answers 503 (a scrape timeout is ~10 s). */
export const QUEUE_READ_TIMEOUT_MS = 5_000;

/** Redis is not connected (or too slow): the request answers 503, the client keeps reconnecting. */
export class RedisUnavailableError extends Error {
  constructor(message = 'Redis is unreachable') {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/** Makes the board's client with these options on top (Sentinel and Cluster connections come as one). */
export type RedisClientFactory = (overrides: RedisOptions) => Redis;

export function createRedisConnection(connection: string | RedisOptions | RedisClientFactory, log: BoardLogger): Redis {
  const overrides: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: 'snapfleet-board' };
  const redis =
    typeof connection === 'function'
      ? connection(overrides)
      : typeof connection === 'string'
        ? new Redis(connection, overrides)
        : new Redis({ ...connection, ...overrides });
  let healthy = true;
  redis.on('error', (err: Error) => {
    // Logged once per outage, not once per reconnect attempt.
    if (healthy) log.warn({ err: err.message }, 'board: Redis connection error');
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) log.info({}, 'board: Redis connection restored');
    healthy = true;
  });
  return redis;
}

export async function pingRedis(redis: Redis): Promise<void> {
  await withRedis(redis, () => redis.ping(), PING_TIMEOUT_MS);
}

/** Connection states from which ioredis is about to be ready: worth waiting for, briefly. */
const CONNECTING = new Set(['wait', 'connecting', 'connect']);

/**
 * Resolves once the connection is ready, at once if it is; fails as withRedis does (down, failing
 * again while connecting, not ready within the deadline). For handlers that hand the connection
 * to code without deadlines of its own (Bull Board's API): BullMQ waits for a connection that is
 * still connecting for as long as it takes, a whole outage if need be.
 */
export async function whenReady(redis: Redis, timeoutMs = PING_TIMEOUT_MS): Promise<void> {
  if (redis.status === 'ready') return;
  // Aborted once settled, so a failed wait leaves no 'ready' listener behind.
  const waited = new AbortController();
  try {
    await withRedis(redis, async () => void (await once(redis, 'ready', { signal: waited.signal })), timeoutMs);
  } finally {
    waited.abort();
  }
}

/**
 * Runs a read through BullMQ only while the connection is up (or about to be), within a deadline.
 * BullMQ waits for a connection that is not ready instead of failing, which would hold an HTTP
 * request (and a Prometheus scrape) open for the whole outage.
 */
export async function withRedis<T>(redis: Redis, read: () => Promise<T>, timeoutMs = QUEUE_READ_TIMEOUT_MS): Promise<T> {
  if (redis.status !== 'ready' && !CONNECTING.has(redis.status)) {
    throw new RedisUnavailableError(`Redis is unreachable (connection ${redis.status})`);
  }
  let timer: NodeJS.Timeout | undefined;
  let onError: (() => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    // Still connecting: the next connection error ends the wait (the read itself would not).
    if (redis.status !== 'ready') {
      onError = () => reject(new RedisUnavailableError());
      redis.once('error', onError);
    }
  });
  try {
    return await Promise.race([read(), failure]);
  } finally {
    clearTimeout(timer);
    if (onError) redis.off('error', onError);
  }
}
