/**
 * The options every fleet command takes (`--config`, `--prefix`) and the key prefix they name:
 * one place, so that run, planner, worker, status and backup-now agree on the fleet's keys.
 */
import type { Command } from 'commander';
import { InvalidInputError } from '@snapfleet/shared';
import { fleetKeyPrefix, type FleetConfig } from '@snapfleet/shared/config';
import type { RedisConnector } from '@snapfleet/providers/redis';

export interface FleetOptions {
  config: string;
  prefix?: string;
}

export function withFleetOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-c, --config <file>', 'the fleet configuration (YAML or JSON)')
    .option('--prefix <prefix>', 'Redis key prefix of the fleet (overrides fleet.prefix)');
}

/** The fleet's key prefix on `redis`: hash-tagged (`{snapfleet}`) on a Cluster (fleetKeyPrefix). */
export function fleetPrefix(opts: FleetOptions, config: FleetConfig, redis: Pick<RedisConnector, 'spec'>): string {
  return fleetKeyPrefix(checkedPrefix(opts.prefix ?? config.fleet.prefix), redis.spec);
}

export function checkedPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(prefix)) throw new InvalidInputError(`--prefix ${prefix}: letters, digits, "_", "." and "-" only`, 'prefix');
  return prefix;
}
