/**
 * Fleet-wide locks in Redis: at most one active job per (volume, stage), and one prune per
 * repository. SET NX PX with a random token, renewed every third of its TTL while held, released
 * in `finally` by a compare-and-delete (never someone else's lock). A worker that dies stops
 * renewing: the lock expires after its TTL and the job's next owner gets it.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisScript } from '@snapfleet/providers/fleet';

const RENEW = redisScript(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`);
const RELEASE = redisScript(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`);

export interface HeldLock {
  readonly key: string;
  /** False once a renewal found the lock gone or taken (Redis lost it, or the TTL passed). */
  readonly held: boolean;
  release(): Promise<void>;
}

export interface LockService {
  /** Takes the lock, or returns undefined when another holder has it. */
  tryAcquire(key: string, ttlMs: number): Promise<HeldLock | undefined>;
}

/**
 * A held lock or slot: renews itself every third of its TTL until released, and notes when a
 * renewal finds it gone. Locks and policy slots differ only in their Redis scripts.
 */
export function holdRenewed(
  key: string,
  ttlMs: number,
  renew: () => Promise<boolean>,
  release: () => Promise<unknown>,
  onRenewError?: (key: string, err: Error) => void,
): HeldLock {
  let held = true;
  const timer = setInterval(
    () => {
      renew().then(
        (ok) => {
          if (!ok) held = false;
        },
        (err: Error) => onRenewError?.(key, err),
      );
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    key,
    get held() {
      return held;
    },
    async release() {
      clearInterval(timer);
      if (!held) return;
      held = false;
      await release();
    },
  };
}

export function createLockService(redis: Redis, onRenewError?: (key: string, err: Error) => void): LockService {
  return {
    async tryAcquire(key, ttlMs) {
      const token = randomUUID();
      const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
      if (ok !== 'OK') return undefined;
      return holdRenewed(
        key,
        ttlMs,
        async () => Number(await RENEW(redis, [key], [token, ttlMs])) === 1,
        () => RELEASE(redis, [key], [token]),
        onRenewError,
      );
    },
  };
}
