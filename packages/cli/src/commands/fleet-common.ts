/**
 * What the fleet commands (run, planner, worker, status, backup-now) share: reading and parsing
 * the config file, the Redis connection (fleet.redis, else REDIS_URL), the prefix, the pino logger (secrets
 * redacted), the provider, and waiting for SIGTERM/SIGINT. The commands are the composition
 * roots of the fleet processes: only here are clients constructed.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { lineBuffer } from '../line-buffer.js';
import { InvalidInputError, type VolumeProvider } from '@snapfleet/shared';
import { fleetKeyPrefix, parseFleetConfig, parseListen, redisConnectionSpec, Secret, type FleetConfig, type RedisConfig, type RedisConnectionSpec, type RedisSecrets } from '@snapfleet/shared/config';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import { localProcessIdentity } from '@snapfleet/providers';
import { createMemoryRateLimiter, createRedisRateLimiter, LocalVolumeProvider } from '@snapfleet/providers/fleet';
import { createRedisConnector, type RedisConnector } from '@snapfleet/providers/redis';
import { createFleetMetrics, createFleetRepositories, createFleetWorker, startProcessEndpoints, type FleetWorker, type ProcessEndpoints } from '@snapfleet/worker';
import type { CliContext, Env } from '../context.js';
import { lazyAwsProvider } from '../lazy-aws-provider.js';

export interface FleetOptions {
  config: string;
  prefix?: string;
}

export function withFleetOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-c, --config <file>', 'the fleet configuration (YAML or JSON)')
    .option('--prefix <prefix>', 'Redis key prefix of the fleet (overrides fleet.prefix)');
}

/** Reads and parses the config file; SNAPFLEET_BOARD_TOKEN in `env` replaces the board's token. */
export async function loadFleetConfig(path: string, env: Env): Promise<FleetConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, 'config');
  }
  const boardToken = env.SNAPFLEET_BOARD_TOKEN || undefined;
  return parseFleetConfig(text, path, { baseDir: dirname(resolve(path)), ...(boardToken ? { boardToken } : {}) });
}

/** The fleet's key prefix on `redis`: hash-tagged (`{snapfleet}`) on a Cluster (fleetKeyPrefix). */
export function fleetPrefix(opts: FleetOptions, config: FleetConfig, redis: Pick<RedisConnector, 'spec'>): string {
  return fleetKeyPrefix(checkedPrefix(opts.prefix ?? config.fleet.prefix), redis.spec);
}

export function checkedPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(prefix)) throw new InvalidInputError(`--prefix ${prefix}: letters, digits, "_", "." and "-" only`, 'prefix');
  return prefix;
}

/**
 * The fleet's Redis: `fleet.redis` of the config (passwords from its env variables or files),
 * else REDIS_URL, else redis://127.0.0.1:6379. The caller closes the connector after the queues,
 * workers and clients it made.
 */
export function redisConnection(ctx: CliContext, config?: FleetConfig): RedisConnector {
  return createRedisConnector(redisSpec(ctx, config));
}

export function redisSpec(ctx: CliContext, config?: FleetConfig): RedisConnectionSpec {
  const section = config?.fleet.redis;
  const secrets = section ? redisSecrets(section, ctx.env) : {};
  try {
    return redisConnectionSpec(section, ctx.env.REDIS_URL, secrets);
  } catch (err) {
    throw new InvalidInputError(`REDIS_URL: ${(err as Error).message}`, 'REDIS_URL');
  }
}

/** Passwords of `fleet.redis`, read once at start (a small file; the command is starting up). */
function redisSecrets(section: RedisConfig, env: Env): RedisSecrets {
  const read = (envName: string | undefined, file: string | undefined, field: string): Secret | undefined => {
    if (envName !== undefined) {
      const value = env[envName];
      if (!value) throw new InvalidInputError(`fleet.redis.${field}Env: environment variable ${envName} is not set`, `fleet.redis.${field}Env`);
      return new Secret(value);
    }
    if (file === undefined) return undefined;
    let text: string;
    try {
      text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new InvalidInputError(`cannot read password file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, `fleet.redis.${field}File`);
    }
    if (!text) throw new InvalidInputError(`password file ${file} is empty`, `fleet.redis.${field}File`);
    return new Secret(text);
  };
  const password = read(section.passwordEnv, section.passwordFile, 'password');
  const sentinelPassword = read(section.sentinelPasswordEnv, section.sentinelPasswordFile, 'sentinelPassword');
  return { ...(password ? { password } : {}), ...(sentinelPassword ? { sentinelPassword } : {}) };
}

/**
 * Logs on stderr: JSON lines for log collectors, or one short human line per record when
 * stderr is a terminal (SNAPFLEET_LOG_FORMAT=json|pretty overrides). Secrets in known places
 * are redacted (config values are Secret anyway).
 */
export function fleetLogger(ctx: CliContext, bindings: object): FleetLogger {
  const level = ctx.env.SNAPFLEET_LOG_LEVEL || 'info';
  const format = ctx.env.SNAPFLEET_LOG_FORMAT || (ctx.stderr.isTTY ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty') throw new InvalidInputError(`SNAPFLEET_LOG_FORMAT must be json or pretty, not "${format}"`, 'SNAPFLEET_LOG_FORMAT');
  let write = (s: string) => ctx.stderr.write(s);
  if (ctx.onExit) {
    const buffer = lineBuffer(write, LOG_FLUSH_MS);
    ctx.onExit(() => buffer.flush());
    write = (s) => buffer.write(s);
  }
  return pino(
    { level, base: { pid: undefined, hostname: ctx.hostname, ...bindings }, redact: { paths: ['password', '*.password', 'token', '*.token', 'auth', '*.auth'], censor: '[redacted]' } },
    { write: (s: string) => write(format === 'json' ? s : prettyLine(s)) },
  ) as unknown as FleetLogger;
}

/** How long log lines may wait to be written together (line-buffer.ts). */
export const LOG_FLUSH_MS = 50;

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** One pino JSON record as `12:00:01 warn message key=value ...` (bindings left out). */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, msg, hostname: _host, role: _role, prefix: _prefix, ...rest } = record;
  const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${at} ${LEVEL_NAMES[level as number] ?? String(level)} ${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
}

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

export interface RunningWorker {
  worker: FleetWorker;
  metrics: ReturnType<typeof createFleetMetrics>;
  /** The worker's Redis client (readiness pings it). */
  redis: Redis;
  /** Applies a reloaded config to jobs that start from now on; returns settings that need a restart. */
  reload(next: FleetConfig): string[];
  close(): Promise<void>;
}

export function startFleetWorker(ctx: CliContext, connection: RedisConnector, config: FleetConfig, prefix: string, log: FleetLogger, archiveConcurrency?: number, regions?: readonly string[]): RunningWorker {
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
    connection, redis, prefix, config, provider: fleetProvider(config, { redis, prefix }), repositories, clock: ctx.clock, log, metrics, hostname: ctx.hostname, env: ctx.env,
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

/** Resolves when the process is asked to stop; `cleanup` runs first (main.ts then exits). */
export function untilInterrupted(ctx: CliContext, cleanup: () => Promise<void>): Promise<never> {
  ctx.onInterrupt(cleanup);
  return new Promise<never>(() => {});
}
