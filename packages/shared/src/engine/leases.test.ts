import { describe, expect, it } from 'vitest';
import { TransientError } from '../errors.js';
import { decodeEnvelope } from '../format/envelope.js';
import { lockKey } from '../format/layout.js';
import { decodeLease } from '../format/lease.js';
import type { Clock } from '../ports/clock.js';
import { MemoryBlobStore } from '../testing/index.js';
import { acquireLease, LEASE_RENEW_MS, LEASE_TTL_MS } from './leases.js';
import type { Repository } from './repository.js';
import { initRepository } from './repository-open.js';

const start = new Date('2026-03-01T12:00:00Z').getTime();

/** A clock moved by hand, whose repeating calls the test runs itself. */
function manualClock() {
  let at = start;
  const repeating = new Map<number, { ms: number; fn: () => void }>();
  let next = 0;
  const clock: Required<Clock> = {
    now: () => new Date(at),
    every(ms, fn) {
      const id = next++;
      repeating.set(id, { ms, fn });
      return () => void repeating.delete(id);
    },
  };
  return {
    clock,
    repeating,
    /** Moves the time on and runs each repeating call once, as its interval would have. */
    tick(ms: number) {
      at += ms;
      for (const r of repeating.values()) r.fn();
    },
  };
}

async function expiryOf(repo: Repository, id: string): Promise<number> {
  const key = lockKey(id);
  return new Date(decodeLease(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key).expires).getTime();
}

describe('leases', () => {
  it('are renewed through the clock until released', async () => {
    const repo = await initRepository(new MemoryBlobStore(), { encrypted: true, password: 'pw' });
    const time = manualClock();
    const lease = await acquireLease(repo, time.clock, 'archive', 'host-a');
    expect([...time.repeating.values()].map((r) => r.ms)).toEqual([LEASE_RENEW_MS]);
    expect(await expiryOf(repo, lease.id)).toBe(start + LEASE_TTL_MS);

    time.tick(LEASE_RENEW_MS);
    await expect.poll(() => expiryOf(repo, lease.id)).toBe(start + LEASE_RENEW_MS + LEASE_TTL_MS);
    time.tick(LEASE_TTL_MS - LEASE_RENEW_MS); // past the first expiry, within the renewed one
    expect(() => lease.assertHeld()).not.toThrow();

    await lease.release();
    expect(time.repeating.size).toBe(0);
    expect(await repo.store.stat(lockKey(lease.id))).toBeUndefined();
  });

  it('lapse without a clock that repeats: the holder must not commit', async () => {
    const repo = await initRepository(new MemoryBlobStore(), { encrypted: true, password: 'pw' });
    let at = start;
    const lease = await acquireLease(repo, { now: () => new Date(at) }, 'archive');
    at += LEASE_TTL_MS - 1;
    expect(() => lease.assertHeld()).not.toThrow();
    at += 1;
    expect(() => lease.assertHeld()).toThrow(TransientError);
    await lease.release();
  });
});
