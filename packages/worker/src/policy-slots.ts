/**
 * Fleet-wide slots: at most N jobs of one policy in one stage at once, across every worker on
 * every host. A sorted set maps each holder's token to its expiry (Redis server time, so hosts'
 * clocks do not matter); holders renew while they run, and a dead holder's slot lapses after its
 * TTL like a lock. Acquire, renew and release are single scripts, so they never race.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisScript } from '@snapfleet/providers/fleet';
import { holdRenewed, type HeldLock } from './stage-lock.js';

const NOW_MS = `local t = redis.call('time') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const ACQUIRE = redisScript(`${NOW_MS}
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('pexpire', KEYS[1], ARGV[2])
return 1`);
const RENEW = redisScript(`${NOW_MS}
if not redis.call('zscore', KEYS[1], ARGV[2]) then return 0 end
redis.call('zadd', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('pexpire', KEYS[1], ARGV[1])
return 1`);

export interface SlotService {
  /** Takes one of `limit` slots under `key`, or returns undefined when all are taken. */
  tryAcquire(key: string, limit: number, ttlMs: number): Promise<HeldLock | undefined>;
}

export function createSlotService(redis: Redis, onRenewError?: (key: string, err: Error) => void): SlotService {
  return {
    async tryAcquire(key, limit, ttlMs) {
      const token = randomUUID();
      if (Number(await ACQUIRE(redis, [key], [limit, ttlMs, token])) !== 1) return undefined;
      return holdRenewed(
        key,
        ttlMs,
        async () => Number(await RENEW(redis, [key], [ttlMs, token])) === 1,
        () => redis.zrem(key, token),
        onRenewError,
      );
    },
  };
}
