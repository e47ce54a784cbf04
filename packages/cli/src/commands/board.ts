/**
 * `snapfleet board --config FILE`: serves Bull Board for the fleet's queues, the ops API, the
 * probes and /metrics (docs/board.md) until SIGINT / SIGTERM. Reads the config file's `board`
 * section (and `fleet.prefix`); Redis from `fleet.redis` when the file is a whole fleet config, else REDIS_URL; SNAPFLEET_BOARD_TOKEN, when set, replaces
 * the file's token, so the token can come from a secret store instead of the file.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidInputError } from '@snapfleet/shared';
import { QUEUE, WORK_QUEUES, fleetQueueNames } from '@snapfleet/shared/jobs';
import type { BoardLogger } from '@snapfleet/board';
import { fleetMetricsText, readFleetMetrics } from '@snapfleet/worker';
import type { CliContext } from '../context.js';
import { complianceView } from '../compliance-view.js';
import { complianceMetricsText } from '../compliance-metrics.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import { redisConnection } from '../fleet/fleet-redis.js';
import { resolveBoardAuth, readBoardTls } from '../board-secrets.js';
import { readPasswordFile } from '../password.js';
import { appendAudit } from '@snapfleet/providers/fleet';
import { fleetKeyPrefix } from '@snapfleet/shared/config';

/** fleet.prefix's default (the fleet config schema's). */
const DEFAULT_PREFIX = 'snapfleet';

interface BoardCommandOptions {
  config?: string;
  hashPassword?: string;
  prefix?: string;
  listen?: string;
}

export function registerBoard(program: Command, ctx: CliContext): void {
  program
    .command('board')
    .description('serve Bull Board, the ops API, health probes and Prometheus metrics')
    .option('-c, --config <file>', 'fleet config file (YAML or JSON) with a board section (required to serve)')
    .option('--hash-password <file>', 'print the scrypt hash of the password in FILE for board.auth.users[].passwordHash, and exit')
    .option('--prefix <prefix>', `BullMQ key prefix of the fleet (default: fleet.prefix, else "${DEFAULT_PREFIX}")`)
    .option('--listen <host:port>', 'override board.listen')
    .action(async (opts: BoardCommandOptions) => {
      // Loaded here, not at start-up: Bull Board and its server cost every other command time.
      const { hashPassword, parseBoardConfigText, parseListen, startBoard } = await import('@snapfleet/board');
      if (opts.hashPassword !== undefined) {
        const password = await readPasswordFile(opts.hashPassword, 'hash-password');
        if (password.length < 8) throw new InvalidInputError('--hash-password: the password must be at least 8 characters', 'hash-password');
        ctx.stdout.write(`${hashPassword(password)}\n`);
        return;
      }
      if (opts.config === undefined) throw new InvalidInputError("required option '-c, --config <file>' not specified", 'config');
      const configPath = opts.config;
      const text = await readFile(configPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new InvalidInputError(`cannot read config ${configPath}: ${err.code ?? err.message}`, 'config');
      });
      const section = parseBoardConfigText(text, configPath, { token: ctx.env.SNAPFLEET_BOARD_TOKEN || undefined });
      const baseDir = dirname(resolve(configPath));
      const auth = await resolveBoardAuth(section.auth, ctx.env, baseDir);
      const tls = await readBoardTls(section.tls, baseDir);
      const listen = opts.listen === undefined ? section.listen : parseListen(opts.listen);
      // A board-only file (no policies) still serves the board, without compliance metrics.
      const fleet = await loadFleetConfig(configPath, ctx.env).catch(() => undefined);
      if (!listen) throw new InvalidInputError(`--listen: expected "host:port", got ${JSON.stringify(opts.listen)}`, 'listen');
      const connector = redisConnection(ctx, fleet);
      const board = await startBoard({
        connection: (overrides) => connector.client(undefined, overrides),
        prefix: fleetKeyPrefix(opts.prefix ?? section.prefix ?? DEFAULT_PREFIX, connector.spec),
        // tick too: its job schedulers (one per policy schedule) show in Bull Board; and the
        // regions' queues when the fleet routes by region.
        queueNames: fleet ? fleetQueueNames(fleet) : [QUEUE.tick, ...WORK_QUEUES, QUEUE.alert],
        auth,
        ...(tls ? { tls } : {}),
        listen,
        log: jsonLineLogger(ctx),
        // The workers' fleet-wide counters (one Redis hash per prefix), after the queue counts.
        // Then RPO compliance from the fleet's records, when the file is a whole fleet config.
        extraMetrics: async ({ connection, prefix }) =>
          fleetMetricsText(await readFleetMetrics(connection, prefix)) +
          (fleet ? complianceMetricsText(await complianceView(connection, prefix, fleet, ctx.clock.now())) : ''),
        // Operators' changes go to the fleet's audit log.
        audit: async ({ connection, prefix }, entry) => void (await appendAudit(connection, prefix, entry)),
        // The /compliance page, likewise.
        ...(fleet ? { compliance: async ({ connection, prefix }) => complianceView(connection, prefix, fleet, ctx.clock.now()) } : {}),
      });
      await new Promise<void>((resolve) => {
        ctx.onInterrupt(async () => {
          await board.close();
          resolve();
        });
      });
    });
}

/** pino-shaped JSON lines on stderr (the board package logs through this interface). */
function jsonLineLogger(ctx: CliContext): BoardLogger {
  const line = (level: string) => (obj: object, msg?: string) =>
    ctx.stderr.write(JSON.stringify({ level, time: ctx.clock.now().toISOString(), msg, ...obj }) + '\n');
  return { info: line('info'), warn: line('warn'), error: line('error') };
}
