/**
 * Audit entries from CLI and fleet processes (backup-now, config reloads) into the fleet's audit
 * stream. The actor is the OS user and host the command ran as. A recorder opens its Redis
 * connection on first use; failing to record is reported on stderr and never fails the action.
 */
import { Redis } from 'ioredis';
import { appendAudit } from '@snapfleet/providers/fleet';
import type { AuditEntry } from '@snapfleet/shared/jobs';
import type { CliContext } from './context.js';
import { redisConnection } from './commands/fleet-common.js';

export interface AuditRecorder {
  record(entry: Omit<AuditEntry, 'at' | 'actor'>): Promise<void>;
  close(): void;
}

export function cliActor(ctx: CliContext, role?: string): string {
  const user = ctx.env.USER || ctx.env.LOGNAME || 'unknown';
  return `${user}@${ctx.hostname}${role ? ` (${role})` : ''}`;
}

export function createAuditRecorder(ctx: CliContext, prefix: string, role?: string): AuditRecorder {
  let redis: Redis | undefined;
  return {
    async record(entry) {
      redis ??= new Redis({ ...redisConnection(ctx), maxRetriesPerRequest: 2 });
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
