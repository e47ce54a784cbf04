/**
 * Who a CLI or fleet process acts as in audit entries: the OS user and host, and the command.
 * Its own module so that repository commands name the actor without loading the fleet's Redis
 * client (audit-recorder.ts).
 */
import type { CliContext } from './context.js';

export function cliActor(ctx: CliContext, role?: string): string {
  const user = ctx.env.USER || ctx.env.LOGNAME || 'unknown';
  return `${user}@${ctx.hostname}${role ? ` (${role})` : ''}`;
}
