/**
 * A Lua script called by its SHA-1 (EVALSHA), loaded with EVAL only when the server does not
 * know it yet (after a restart, a failover, or on a node of a cluster that never ran it).
 * Plain EVAL sends the whole script with every call and has the server hash it each time: on
 * the per-job paths (locks, compliance records) that was a large share of a worker's overhead.
 * `many` sends a batch of calls in one pipeline: one write and one round trip for all of them.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface ScriptCall {
  keys: readonly string[];
  args: readonly (string | number)[];
}

export interface RedisScript {
  (redis: Pick<Redis, 'evalsha' | 'eval'>, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** Runs every call in one pipeline; each call's result, or its error. */
  many(redis: Pick<Redis, 'pipeline' | 'script'>, calls: readonly ScriptCall[]): Promise<({ ok: true; value: unknown } | { ok: false; error: Error })[]>;
}

const isNoScript = (err: unknown) => err instanceof Error && err.message.startsWith('NOSCRIPT');

export function redisScript(lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  const one = async (redis: Pick<Redis, 'evalsha' | 'eval'>, keys: readonly string[], args: readonly (string | number)[]) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
  const many: RedisScript['many'] = async (redis, calls) => {
    if (calls.length === 0) return [];
    const send = async () => {
      const p = redis.pipeline();
      for (const c of calls) p.evalsha(sha, c.keys.length, ...c.keys, ...c.args);
      return (await p.exec()) ?? [];
    };
    let results = await send();
    if (results.some(([err]) => isNoScript(err))) {
      await redis.script('LOAD', lua);
      results = await send();
    }
    return results.map(([err, value]) => (err ? { ok: false as const, error: err } : { ok: true as const, value }));
  };
  return Object.assign(one, { many });
}
