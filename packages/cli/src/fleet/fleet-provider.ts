/**
 * The volume provider a fleet config names, with its AWS API budgets: in Redis when the process
 * shares them with the fleet, else counted by this process alone.
 */
import type { Redis } from 'ioredis';
import type { VolumeProvider } from '@snapfleet/shared';
import type { FleetConfig } from '@snapfleet/shared/config';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import { createMemoryRateLimiter, createRedisRateLimiter, LocalVolumeProvider } from '@snapfleet/providers/fleet';
import type { RedisConnector } from '@snapfleet/providers/redis';
import { lazyAwsProvider } from '../lazy-aws-provider.js';

/**
 * The volume provider the config names. AWS API budgets are per account and region, so with
 * `limits.redis` its limiters live in Redis and the whole fleet shares them; without (a one-off
 * command such as `status`), they count this process only.
 */
export function fleetProvider(config: FleetConfig, limits: { redis?: Redis; prefix?: string } = {}): VolumeProvider {
  const provider = config.provider;
  if (provider.kind === 'local') return new LocalVolumeProvider(config.volumes);
  const { redis } = limits;
  const prefix = limits.prefix ?? config.fleet.prefix;
  // Budgets are per second: the limits are requests per second (AWS quotas are stated so).
  const makeLimiter = (name: string, points: number) =>
    redis ? createRedisRateLimiter(redis, { name, points, durationMs: 1000, prefix }) : createMemoryRateLimiter({ points, durationMs: 1000 });
  return lazyAwsProvider(provider, { makeLimiter, policies: config.policies.map((p) => ({ name: p.name, selector: p.selector })) });
}

/**
 * Providers for a planner-side process (planner, run, backup-now, status): AWS rate limits are
 * shared with the workers through one Redis connection, opened only when a config needs one.
 */
export interface ProviderFactory {
  provider(config: FleetConfig): VolumeProvider;
  close(): void;
}

export function sharedLimitProviders(connector: RedisConnector, prefix: string, log: FleetLogger): ProviderFactory {
  let redis: Redis | undefined;
  return {
    provider(config) {
      if (config.provider.kind === 'local') return fleetProvider(config);
      if (!redis) {
        redis = connector.client('worker');
        redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error (rate limits)'));
      }
      return fleetProvider(config, { redis, prefix });
    },
    close() {
      redis?.disconnect();
    },
  };
}
