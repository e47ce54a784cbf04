/** EVALSHA with its fallbacks against real Redis: a script the server never saw still runs, alone and in a batch. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisScript } from './redis-script.js';

const redis = new Redis({ host: '127.0.0.1', port: 6379 });
const key = `sf-test-script-${process.pid}-${randomBytes(3).toString('hex')}`;

afterAll(async () => {
  await redis.del(key);
  redis.disconnect();
});

describe('redisScript', () => {
  it('runs a script the server does not know yet, alone and then by its hash', async () => {
    // A fresh script text (a random comment): no server has its hash cached.
    const incr = redisScript(`-- ${randomBytes(8).toString('hex')}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
    expect(await incr(redis, [key], [2])).toBe(2);
    expect(await incr(redis, [key], [3])).toBe(5);
  });

  it("runs a batch in one pipeline, loading the script first when the server lacks it, with each call's own error", async () => {
    const set = redisScript(
      `-- ${randomBytes(8).toString('hex')}\nif ARGV[1] == 'bad' then return redis.error_reply('bad value') end\nreturn redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])`,
    );
    const results = await set.many(redis, [
      { keys: [`${key}:h`], args: ['a', 1] },
      { keys: [`${key}:h`], args: ['bad', 2] },
      { keys: [`${key}:h`], args: ['b', 3] },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[1]!.ok ? undefined : results[1]!.error.message).toContain('bad value');
    expect(await redis.hgetall(`${key}:h`)).toEqual({ a: '1', b: '3' });
    await redis.del(`${key}:h`);
    expect(await set.many(redis, [])).toEqual([]);
  });
});
