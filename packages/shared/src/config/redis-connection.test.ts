import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from './parse-fleet-config.js';
import { describeRedis, fleetKeyPrefix, ioredisClusterOptions, ioredisOptions, parseRedisUrl, redisConnectionSpec } from './redis-connection.js';
import { Secret } from './secret.js';

const withRedis = (redis: object) => parseFleetConfig(JSON.stringify({ fleet: { redis }, repositories: {} }), 'fleet.yaml', { baseDir: '/etc/snapfleet' });

describe('fleet.redis', () => {
  it('defaults to REDIS_URL, else the local server', () => {
    expect(redisConnectionSpec(undefined, undefined)).toEqual({ mode: 'standalone', node: { host: '127.0.0.1', port: 6379 }, auth: {} });
    const spec = redisConnectionSpec(undefined, 'rediss://u:p%40ss@redis.internal:6380/2');
    expect(spec).toMatchObject({ mode: 'standalone', node: { host: 'redis.internal', port: 6380 }, auth: { username: 'u', db: 2, tls: true } });
    expect(spec.auth.password?.reveal()).toBe('p@ss');
  });

  it("takes sentinels and a master name, with the sentinels' own password", () => {
    const config = withRedis({
      sentinels: ['10.0.0.1:26379', '10.0.0.2:26379'],
      name: 'fleet',
      passwordEnv: 'REDIS_PASSWORD',
      sentinelPasswordFile: 'sentinel.pw',
    });
    expect(config.fleet.redis?.sentinelPasswordFile).toBe('/etc/snapfleet/sentinel.pw');
    const spec = redisConnectionSpec(config.fleet.redis, 'redis://ignored:1', { password: new Secret('data'), sentinelPassword: new Secret('sent') });
    expect(spec.mode).toBe('sentinel');
    const options = ioredisOptions(spec as Exclude<typeof spec, { mode: 'cluster' }>, 'worker');
    expect(options).toMatchObject({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      name: 'fleet',
      password: 'data',
      sentinelPassword: 'sent',
      maxRetriesPerRequest: null,
    });
    expect(JSON.stringify(spec)).not.toMatch(/data|sent"/);
    expect(describeRedis(spec)).toBe('sentinel fleet via 10.0.0.1:26379,10.0.0.2:26379');
  });

  it('takes cluster nodes and hash-tags the prefix there only', () => {
    const spec = redisConnectionSpec(withRedis({ cluster: ['127.0.0.1:7000', '127.0.0.1:7001'] }).fleet.redis, undefined);
    expect(spec).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
      auth: {},
    });
    expect(fleetKeyPrefix('snapfleet', spec)).toBe('{snapfleet}');
    expect(fleetKeyPrefix('{given}-x', spec)).toBe('{given}-x');
    expect(fleetKeyPrefix('snapfleet', redisConnectionSpec(undefined, undefined))).toBe('snapfleet');
    const producer = ioredisClusterOptions(spec as Extract<typeof spec, { mode: 'cluster' }>, 'producer');
    expect(producer.options).toMatchObject({ enableOfflineQueue: false, redisOptions: {} });
    expect(ioredisClusterOptions(spec as Extract<typeof spec, { mode: 'cluster' }>, 'worker').options).toMatchObject({
      redisOptions: { maxRetriesPerRequest: null },
    });
  });

  it('reads sentinel and cluster forms of REDIS_URL', () => {
    expect(parseRedisUrl('redis+sentinel://:pw@a:26379,b/main/3')).toMatchObject({
      mode: 'sentinel',
      name: 'main',
      sentinels: [
        { host: 'a', port: 26379 },
        { host: 'b', port: 26379 },
      ],
      auth: { db: 3 },
    });
    expect(parseRedisUrl('redis+cluster://a:7000,b:7001')).toMatchObject({
      mode: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
    });
    expect(() => parseRedisUrl('redis+sentinel://a:26379')).toThrow(/master name/);
    expect(() => parseRedisUrl('http://x')).toThrow(/expected redis/);
    expect(() => parseRedisUrl('redis://u:secret@a,b')).toThrow(/one host/);
    expect(() => parseRedisUrl('redis://u:secret@a,b')).not.toThrow(/secret/);
  });

  it('refuses mixed or incomplete sections with the field named', () => {
    expect(() => withRedis({ url: 'redis://a:1', cluster: ['b:2'] })).toThrow(/fleet\.redis\.cluster: give one of url, sentinels or cluster/);
    expect(() => withRedis({ sentinels: ['a:26379'] })).toThrow(/fleet\.redis\.name: sentinels need the master name/);
    expect(() => withRedis({ cluster: ['a'] })).toThrow(/expected "host:port"/);
    expect(() => withRedis({ url: 'redis://u:pw@a:1' })).toThrow(/must not hold a password/);
    expect(() => withRedis({ cluster: ['a:1'], db: 1 })).toThrow(/only database 0/);
    expect(() => withRedis({ url: 'redis://a:1', sentinelPasswordEnv: 'X' })).toThrow(/goes with sentinels/);
  });
});
