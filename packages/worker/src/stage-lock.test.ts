import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLockService } from './stage-lock.js';

// Real Redis (127.0.0.1:6379); every key lives under this test's own prefix and is removed after.
const prefix = `sf-test-lock-${process.pid}-${Date.now()}`;
const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('createLockService', () => {
  const locks = createLockService(redis);

  it('lets one holder in at a time and releases only its own lock', async () => {
    const a = await locks.tryAcquire(`${prefix}:a`, 5_000);
    expect(a?.held).toBe(true);
    expect(await locks.tryAcquire(`${prefix}:a`, 5_000)).toBeUndefined();
    await a!.release();
    const b = await locks.tryAcquire(`${prefix}:a`, 5_000);
    expect(b).toBeDefined();
    await a!.release(); // a second release of an old holder must not free b's lock
    expect(await redis.exists(`${prefix}:a`)).toBe(1);
    await b!.release();
    expect(await redis.exists(`${prefix}:a`)).toBe(0);
  });

  it('renews while held, and expires when the holder stops renewing', async () => {
    const a = await locks.tryAcquire(`${prefix}:renew`, 600);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(a!.held).toBe(true);
    expect(await redis.pttl(`${prefix}:renew`)).toBeGreaterThan(0);
    await a!.release();
    // A dead holder: the key is set by hand with a TTL and never renewed.
    await redis.set(`${prefix}:dead`, 'someone', 'PX', 300);
    expect(await locks.tryAcquire(`${prefix}:dead`, 5_000)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 400));
    const c = await locks.tryAcquire(`${prefix}:dead`, 5_000);
    expect(c).toBeDefined();
    await c!.release();
  });
});
