/**
 * Redis connection options per BullMQ's production guide: workers (blocking commands) need
 * `maxRetriesPerRequest: null` so a Redis outage pauses them instead of failing their commands;
 * producers (planner, CLI) use `enableOfflineQueue: false` so an enqueue while Redis is down
 * fails at once instead of queueing in memory.
 */
import type { RedisOptions } from 'bullmq';

/** Default Redis of the embedded setup. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** redis://[user:password@]host:port[/db] (rediss:// for TLS) -> ioredis options. */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`REDIS_URL must be redis:// or rediss://, got ${u.protocol}`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function workerConnection(base: RedisOptions): RedisOptions {
  return { ...base, maxRetriesPerRequest: null };
}

export function producerConnection(base: RedisOptions): RedisOptions {
  return { ...base, enableOfflineQueue: false };
}
