import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
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

  it('renews every third of its TTL while held, and notes a renewal that finds the lock gone', async () => {
    // The renewal is driven by setInterval, faked here; Redis keeps its own (real) time, so
    // the test shortens the TTL in Redis by hand instead of waiting for it to run down.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const key = `${prefix}:renew`;
      const a = await locks.tryAcquire(key, 60_000);
      await redis.pexpire(key, 10_000);
      await vi.advanceTimersByTimeAsync(20_000);
      await vi.waitFor(async () => expect(await redis.pttl(key)).toBeGreaterThan(50_000));
      expect(a!.held).toBe(true);
      // Redis lost the lock (a failover, or the TTL ran out while the process was stalled).
      await redis.del(key);
      await vi.advanceTimersByTimeAsync(20_000);
      await vi.waitFor(() => expect(a!.held).toBe(false));
      await a!.release();
      expect(await redis.exists(key)).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('expires when the holder stops renewing', async () => {
    // A dead holder: the key is set by hand with a TTL and never renewed. This waits on
    // Redis's clock, which fake timers do not move.
    await redis.set(`${prefix}:dead`, 'someone', 'PX', 300);
    expect(await locks.tryAcquire(`${prefix}:dead`, 5_000)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 400));
    const c = await locks.tryAcquire(`${prefix}:dead`, 5_000);
    expect(c).toBeDefined();
    await c!.release();
  });
});
