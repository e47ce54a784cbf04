/**
 * Audit entries from CLI and fleet processes (backup-now, config reloads, repository commands
 * that know the fleet) into the fleet's audit stream. The actor is the OS user and host the
 * command ran as. A recorder opens its Redis connection on first use; failing to record is
 * reported on stderr and never fails the action.
 */
import type { Redis } from 'ioredis';
import type { RedisConnector } from '@snapfleet/providers/redis';
import { appendAudit } from '@snapfleet/providers/fleet';
import type { AuditEntry } from '@snapfleet/shared/jobs';
import type { CliContext } from './context.js';
import { cliActor } from './cli-actor.js';

export interface AuditRecorder {
  /** `at` and `actor` default to now and this process (a repository command passes the ones its repository entry has). */
  record(entry: Omit<AuditEntry, 'at' | 'actor'> & Partial<Pick<AuditEntry, 'at' | 'actor'>>): Promise<void>;
  close(): void;
}

export { cliActor };

export function createAuditRecorder(ctx: CliContext, connector: Pick<RedisConnector, 'client'>, prefix: string, role?: string): AuditRecorder {
  let redis: Redis | undefined;
  return {
    async record(entry) {
      redis ??= connector.client(undefined, { maxRetriesPerRequest: 2 });
      redis.on('error', () => {}); // reported below, once per entry
      try {
        await appendAudit(redis, prefix, { at: ctx.clock.now().toISOString(), actor: cliActor(ctx, role), ...entry });
      } catch (err) {
        ctx.stderr.write(`snapfleet: could not record the audit entry (${entry.action} ${entry.target}): ${(err as Error).message}\n`);
      }
    },
    close() {
      redis?.disconnect();
    },
  };
}
