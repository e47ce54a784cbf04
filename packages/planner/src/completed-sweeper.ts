/**
 * Completed jobs are kept `fleet.jobs.keepCompleted`, but BullMQ removes an aged one only when
 * another job of its queue completes: after a night's last job, the whole night's jobs (about
 * 1 KB each, three per volume) would stay until the next night. A long-running planner sweeps
 * the work queues every SWEEP_MS instead. Several planners sweeping at once is harmless: a job
 * is removed once.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { FleetConfig } from '@snapfleet/shared/config';
import { workQueueNames, type FleetLogger } from '@snapfleet/shared/jobs';

export const SWEEP_MS = 10 * 60_000;
/** Jobs removed per call: one bounded Lua script run each. */
const BATCH = 1000;

export interface CompletedSweeper {
  /** Removes the completed jobs older than keepCompleted from every work queue; returns how many. */
  sweep(): Promise<number>;
  stop(): void;
}

export function startCompletedSweeper(
  connection: ConnectionOptions,
  prefix: string,
  config: () => FleetConfig,
  log: FleetLogger,
  intervalMs = SWEEP_MS,
): CompletedSweeper {
  let running: Promise<number> | undefined;
  const sweep = async (): Promise<number> => {
    const keepMs = config().fleet.jobs.keepCompleted;
    let removed = 0;
    for (const { name } of workQueueNames(config())) {
      const queue = new Queue(name, { connection, prefix, skipMetasUpdate: true });
      try {
        for (;;) {
          const ids = await queue.clean(keepMs, BATCH, 'completed');
          removed += ids.length;
          if (ids.length < BATCH) break;
        }
      } finally {
        await queue.close();
      }
    }
    if (removed) log.info({ removed, keepCompleted: keepMs }, 'completed jobs past keepCompleted removed');
    return removed;
  };
  const timer = setInterval(() => {
    running ??= sweep()
      .catch((err: Error) => {
        log.warn({ err: err.message }, 'could not remove completed jobs past keepCompleted');
        return 0;
      })
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
