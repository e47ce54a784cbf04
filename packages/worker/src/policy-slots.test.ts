import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createSlotService } from './policy-slots.js';

// Real Redis (127.0.0.1:6379); every key lives under this test's own prefix and is removed after.
const prefix = `sf-test-slots-${process.pid}-${Date.now()}`;
const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });

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

  it('keeps a renewed slot, and lets a dead holder\'s slot lapse after its TTL', async () => {
    const key = `${prefix}:ttl`;
    const live = await slots.tryAcquire(key, 1, 600);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(live!.held).toBe(true);
    expect(await slots.tryAcquire(key, 1, 600)).toBeUndefined();
    await live!.release();
    // A dead holder: a slot added by hand that nobody renews.
    const t = await redis.time();
    await redis.zadd(key, Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000) + 300, 'dead-holder');
    expect(await slots.tryAcquire(key, 1, 5_000)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 400));
    const next = await slots.tryAcquire(key, 1, 5_000);
    expect(next).toBeDefined();
    await next!.release();
  });
});
