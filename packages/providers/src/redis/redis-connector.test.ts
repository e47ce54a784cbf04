import { describe, expect, it } from 'vitest';
import { redisConnectionSpec } from '@snapfleet/shared/config';
import { asRedisConnector, createRedisConnector } from './redis-connector.js';

describe('redis connector roles', () => {
  it('gives BullMQ the role settings of shared/config for a resolved connection', () => {
    const connector = createRedisConnector(redisConnectionSpec(undefined, 'redis://10.0.0.5:6380/2'));
    expect(connector.bullmq('worker')).toEqual({ host: '10.0.0.5', port: 6380, db: 2, maxRetriesPerRequest: null });
    expect(connector.bullmq('producer')).toEqual({ host: '10.0.0.5', port: 6380, db: 2, enableOfflineQueue: false });
  });

  it('gives plain ioredis options the same role settings', () => {
    const connector = asRedisConnector({ host: '10.0.0.5', port: 6380 });
    expect(connector.bullmq('worker')).toEqual({ host: '10.0.0.5', port: 6380, maxRetriesPerRequest: null });
    expect(connector.bullmq('producer')).toEqual({ host: '10.0.0.5', port: 6380, enableOfflineQueue: false });
    expect(connector.description).toBe('redis 10.0.0.5:6380');
  });
});
