/**
 * How a long-running fleet command (run, planner, worker) ends: it waits until the process is
 * asked to stop, and its cleanup runs before main.ts exits.
 */
import type { CliContext } from '../context.js';

/** Resolves when the process is asked to stop; `cleanup` runs first (main.ts then exits). */
export function untilInterrupted(ctx: CliContext, cleanup: () => Promise<void>): Promise<never> {
  ctx.onInterrupt(cleanup);
  return new Promise<never>(() => {});
}
