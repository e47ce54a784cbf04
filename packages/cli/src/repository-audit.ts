/**
 * The audit of the repository commands (forget, prune, key add/remove/passwd, unlock, repair,
 * migrate, maintenance): one entry in the repository itself when the command ends
 * (engine/audit-trail.ts), and the same entry in the fleet's audit stream when the command knows
 * the fleet (`--config`, or REDIS_URL). These commands also run on hosts with no fleet at all,
 * so the repository's trail is the one always written; the fleet's client (ioredis) is loaded
 * only when there is a fleet to write to.
 *
 * Recording never changes the command's outcome or exit code: a failure to record is said on
 * stderr. Entries hold counts, ids and error class names, never a password, a key or a message
 * that might quote one.
 */
import type { Command } from 'commander';
import {
  appendAuditEntry,
  isSnapfleetError,
  RepositoryLockedError,
  RetainedObjectError,
  type AuditOutcome,
  type Repository,
  type RepositoryAuditEntry,
} from '@snapfleet/shared';
import type { RepositoryAuditAction } from '@snapfleet/shared/jobs';
import type { CliContext } from './context.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { RedisConnector } from '@snapfleet/providers/redis';
import { cliActor } from './cli-actor.js';

export type AuditDetails = NonNullable<RepositoryAuditEntry['details']>;

/** Options that tell a repository command where the fleet's audit stream is. */
export interface FleetAuditOptions {
  config?: string;
  prefix?: string;
}

/** The fleet config's default prefix (fleet.prefix): the one REDIS_URL alone points into. */
const DEFAULT_FLEET_PREFIX = 'snapfleet';

/** Adds --config and --prefix; `config: false` for a command that has a --config of its own (repair snapshots). */
export function withFleetAuditOptions(cmd: Command, { config = true }: { config?: boolean } = {}): Command {
  if (config) cmd.option('--config <file>', "the fleet configuration: also record the action in the fleet's audit log (as REDIS_URL does)");
  return cmd.option('--prefix <prefix>', `with --config or REDIS_URL: the fleet's Redis key prefix (default: fleet.prefix, else "${DEFAULT_FLEET_PREFIX}")`);
}

export interface RepositoryAudit {
  /**
   * Runs `work` and records how it ended, with the details it noted (noted details are kept
   * when it fails halfway: a forget that removed two snapshots before failing says so). Returns
   * or throws what `work` does. With `record: false` (a dry run) it only runs `work`.
   */
  run<T>(repo: Repository, work: (note: (details: AuditDetails) => void) => Promise<T>, options?: { record?: boolean }): Promise<T>;
}

/**
 * The audit of one command. Called before the repository is opened, so that a --config that does
 * not parse is refused before the command changes anything.
 */
export async function repositoryAudit(ctx: CliContext, opts: FleetAuditOptions, action: RepositoryAuditAction, role: string): Promise<RepositoryAudit> {
  const fleet = await fleetFor(ctx, opts);
  const actor = cliActor(ctx, role);
  let recorded = false;
  const record = async (repo: Repository, outcome: AuditOutcome, details: AuditDetails) => {
    // Once: an interrupted command records from its interrupt handler, and may still end meanwhile.
    if (recorded) return;
    recorded = true;
    const entry: RepositoryAuditEntry = {
      at: ctx.clock.now().toISOString(),
      actor,
      action,
      target: repo.store.location,
      outcome,
      ...(Object.keys(details).length ? { details } : {}),
    };
    try {
      await appendAuditEntry(repo, entry);
    } catch (err) {
      ctx.stderr.write(`snapfleet: could not record the audit entry in the repository (${action}): ${(err as Error).message}\n`);
    }
    if (fleet !== undefined) await recordInFleet(ctx, fleet, role, { ...entry, action });
  };
  return {
    async run(repo, work, options = {}) {
      if (options.record === false) return work(() => {});
      const details: AuditDetails = {};
      const note = (d: AuditDetails) => void Object.assign(details, d);
      // Interrupted (SIGINT, SIGTERM): the process ends before `work` does; say so while it can.
      const interrupt = ctx.onInterrupt(() => record(repo, 'failed', { ...details, error: 'interrupted' }));
      let outcome: AuditOutcome = 'ok';
      try {
        return await work(note);
      } catch (err) {
        outcome = outcomeOf(err);
        details.error = errorName(err);
        throw err;
      } finally {
        interrupt.release();
        await record(repo, outcome, details);
      }
    },
  };
}

/**
 * Refused: the command would not act (bad input, nothing by that id, the repository held by a
 * prune, an object under Object Lock retention). Failed: it tried and something broke.
 */
export function outcomeOf(err: unknown): AuditOutcome {
  if (err instanceof RepositoryLockedError || err instanceof RetainedObjectError) return 'refused';
  if (isSnapfleetError(err) && (err.kind === 'invalid-input' || err.kind === 'not-found' || err.kind === 'wrong-password')) return 'refused';
  return 'failed';
}

/** The error's class, never its message: messages may quote objects and locations at length. */
function errorName(err: unknown): string {
  return err instanceof Error && /^[A-Za-z]{1,64}$/.test(err.name) ? err.name : 'Error';
}

interface FleetTarget {
  prefix: string;
  connector: RedisConnector;
}

/** The fleet's Redis and prefix when the command knows the fleet, else undefined. */
async function fleetFor(ctx: CliContext, opts: FleetAuditOptions): Promise<FleetTarget | undefined> {
  if (opts.config === undefined && !ctx.env.REDIS_URL) return undefined;
  // Loaded only here: the fleet's modules cost a repository command start-up time.
  const [{ checkedPrefix }, { loadFleetConfig }, { redisConnection }] = await Promise.all([
    import('./fleet/fleet-options.js'),
    import('./fleet/fleet-config-file.js'),
    import('./fleet/fleet-redis.js'),
  ]);
  const { fleetKeyPrefix } = await import('@snapfleet/shared/config');
  const config = opts.config === undefined ? undefined : await loadFleetConfig(opts.config, ctx.env);
  const connector = redisConnection(ctx, config);
  return { prefix: fleetKeyPrefix(checkedPrefix(opts.prefix ?? config?.fleet.prefix ?? DEFAULT_FLEET_PREFIX), connector.spec), connector };
}

async function recordInFleet(
  ctx: CliContext,
  { prefix, connector }: FleetTarget,
  role: string,
  entry: Omit<RepositoryAuditEntry, 'action'> & { action: RepositoryAuditAction },
): Promise<void> {
  let recorder: AuditRecorder | undefined;
  try {
    recorder = (await import('./audit-recorder.js')).createAuditRecorder(ctx, connector, prefix, role);
    await recorder.record(entry);
  } catch (err) {
    ctx.stderr.write(`snapfleet: could not record the audit entry in the fleet's audit log (${entry.action}): ${(err as Error).message}\n`);
  } finally {
    recorder?.close();
  }
}
