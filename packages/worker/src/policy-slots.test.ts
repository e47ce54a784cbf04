import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createSlotService } from './policy-slots.js';

// Real Redis (127.0.0.1:6379); every key lives under this test's own prefix and is removed after.
const prefix = `sf-test-slots-${process.pid}-${Date.now()}`;
const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });

/** Redis server time in ms, the clock slot expiries are kept in. */
const serverNowMs = async () => {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
};

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('createSlotService', () => {
  const slots = createSlotService(redis);

  it('admits at most `limit` holders and frees a slot on release', async () => {
    const key = `${prefix}:limit`;
    const a = await slots.tryAcquire(key, 2, 5_000);
    const b = await slots.tryAcquire(key, 2, 5_000);
    expect(a?.held && b?.held).toBe(true);
    expect(await slots.tryAcquire(key, 2, 5_000)).toBeUndefined();
    await a!.release();
    const c = await slots.tryAcquire(key, 2, 5_000);
    expect(c).toBeDefined();
    expect(await redis.zcard(key)).toBe(2);
    await a!.release(); // releasing twice must not free someone else's slot
    expect(await redis.zcard(key)).toBe(2);
    await b!.release();
    await c!.release();
    expect(await redis.zcard(key)).toBe(0);
  });

  it('keeps a renewed slot, and notes a renewal that finds the slot gone', async () => {
    // The renewal is driven by setInterval, faked here; the slots' expiries are Redis server
    // time, so the test moves a slot's expiry closer by hand instead of waiting for it.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const key = `${prefix}:renew`;
      const live = await slots.tryAcquire(key, 1, 60_000);
      const [holder] = await redis.zrange(key, 0, -1);
      await redis.zadd(key, 'XX', (await serverNowMs()) + 10_000, holder!);
      await vi.advanceTimersByTimeAsync(20_000);
      await vi.waitFor(async () => expect(Number(await redis.zscore(key, holder!)) - (await serverNowMs())).toBeGreaterThan(50_000));
      expect(live!.held).toBe(true);
      expect(await slots.tryAcquire(key, 1, 60_000)).toBeUndefined();
      // Redis lost the slot: the next renewal says so.
      await redis.zrem(key, holder!);
      await vi.advanceTimersByTimeAsync(20_000);
      await vi.waitFor(() => expect(live!.held).toBe(false));
      await live!.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it("lets a dead holder's slot lapse after its TTL", async () => {
    const key = `${prefix}:ttl`;
    // A dead holder: a slot added by hand that nobody renews.
    // This waits on Redis's clock, which fake timers do not move.
    await redis.zadd(key, (await serverNowMs()) + 300, 'dead-holder');
    expect(await slots.tryAcquire(key, 1, 5_000)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 400));
    const next = await slots.tryAcquire(key, 1, 5_000);
    expect(next).toBeDefined();
    await next!.release();
  });
});
