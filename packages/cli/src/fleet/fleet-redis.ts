/**
 * The fleet's Redis connector for a command. Which connection the config and REDIS_URL name is
 * decided purely in shared/config (`redisConnectionSpec`); the clients are made by the connector
 * in providers/redis. What is left here is what only a composition root may do: read the
 * environment and the password files.
 */
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '@snapfleet/shared';
import { redisConnectionSpec, Secret, type FleetConfig, type RedisConfig, type RedisConnectionSpec, type RedisSecrets } from '@snapfleet/shared/config';
import { createRedisConnector, type RedisConnector } from '@snapfleet/providers/redis';
import type { CliContext, Env } from '../context.js';

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
