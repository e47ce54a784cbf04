/**
 * A fleet process's own HTTP endpoints, /metrics and /healthz, and the option that places them.
 */
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { InvalidInputError } from '@snapfleet/shared';
import { parseListen, type FleetConfig } from '@snapfleet/shared/config';
import { startProcessEndpoints, type ProcessEndpoints } from '@snapfleet/worker';
import type { CliContext } from '../context.js';
import type { RunningWorker } from './fleet-worker-process.js';

/**
 * The process's /metrics and /healthz (`--metrics-listen`, else fleet.metrics.listen; neither:
 * none). The URL goes to stderr, so a script that asked for port 0 learns the port.
 */
export async function startEndpoints(
  ctx: CliContext,
  config: FleetConfig,
  role: 'planner' | 'worker' | 'run',
  flag: string | undefined,
  redis: Pick<Redis, 'ping'>,
  registries: readonly RunningWorker['metrics']['registry'][] = [],
): Promise<ProcessEndpoints | undefined> {
  const listen = flag !== undefined ? parseListen(flag) : config.fleet.metrics?.listen;
  if (!listen) {
    if (flag !== undefined) throw new InvalidInputError(`--metrics-listen: expected "host:port", got ${JSON.stringify(flag)}`, 'metrics-listen');
    return undefined;
  }
  const endpoints = await startProcessEndpoints({ listen, role, redis, registries });
  ctx.stderr.write(`snapfleet: metrics at ${endpoints.url}/metrics\n`);
  return endpoints;
}

export function withEndpointOption(cmd: Command): Command {
  return cmd.option('--metrics-listen <host:port>', '/metrics and /healthz of this process (overrides fleet.metrics.listen)');
}
