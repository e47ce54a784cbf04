/**
 * A worker inside a CLI process (`worker`, and `run` with its embedded worker): the fleet worker
 * over this host's repositories, provider and process identity, with its Redis client and
 * metrics, reloadable and closed in order.
 */
import type { Redis } from 'ioredis';
import type { FleetConfig } from '@snapfleet/shared/config';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import { localProcessIdentity } from '@snapfleet/providers';
import type { RedisConnector } from '@snapfleet/providers/redis';
import { createFleetMetrics, createFleetRepositories, createFleetWorker, type FleetWorker } from '@snapfleet/worker';
import type { CliContext } from '../context.js';
import { fleetProvider } from './fleet-provider.js';

export interface RunningWorker {
  worker: FleetWorker;
  metrics: ReturnType<typeof createFleetMetrics>;
  /** The worker's Redis client (readiness pings it). */
  redis: Redis;
  /** Applies a reloaded config to jobs that start from now on; returns settings that need a restart. */
  reload(next: FleetConfig): string[];
  close(): Promise<void>;
}

export function startFleetWorker(
  ctx: CliContext,
  connection: RedisConnector,
  config: FleetConfig,
  prefix: string,
  log: FleetLogger,
  archiveConcurrency?: number,
  regions?: readonly string[],
): RunningWorker {
  const redis = connection.client('worker');
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
  const metrics = createFleetMetrics(redis, prefix, (err) => log.warn({ err: err.message }, 'fleet metrics not recorded'));
  const repositories = createFleetRepositories({
    repositories: config.repositories,
    env: ctx.env,
    clock: ctx.clock,
    onWarning: (message) => log.warn({ component: 'index-cache' }, message),
    ...(config.fleet.worker.codecThreads ? { codecThreads: config.fleet.worker.codecThreads } : {}),
  });
  const identity = localProcessIdentity();
  const worker = createFleetWorker({
    connection,
    redis,
    prefix,
    config,
    provider: fleetProvider(config, { redis, prefix }),
    repositories,
    clock: ctx.clock,
    log,
    metrics,
    hostname: ctx.hostname,
    env: ctx.env,
    ...(identity ? { identity } : {}),
    ...(archiveConcurrency ? { archiveConcurrency } : {}),
    ...(regions ? { regions } : {}),
  });
  return {
    worker,
    metrics,
    redis,
    reload(next) {
      repositories.update(next.repositories);
      return worker.reload(next, fleetProvider(next, { redis, prefix }));
    },
    async close() {
      await worker.close();
      await repositories.close();
      redis.disconnect();
    },
  };
}
