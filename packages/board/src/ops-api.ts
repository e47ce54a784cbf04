/**
 * The small JSON ops API under /api, for scripts and the CLI: queue counts for any authenticated
 * caller; retry / remove / promote of one job for operators only. Only the configured queues are
 * reachable, so a request can never create keys for a queue name it made up.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BoardLogger } from './board-options.js';
import { principalOf, requireRole } from './auth/auth-middleware.js';
import { readAllQueueStats } from './queue-stats.js';
import { withRedis } from './redis-connection.js';

type Action = 'retry' | 'remove' | 'promote';

/** The states each action applies to; anything else answers 409 with the job's actual state. */
const ALLOWED_STATES: Record<Action, readonly string[]> = {
  retry: ['failed', 'completed'],
  remove: ['waiting', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'],
  promote: ['delayed'],
};

export function createOpsApi(args: { queues: ReadonlyMap<string, Queue>; redis: Redis; prefix: string; log: BoardLogger }): Router {
  const router = express.Router();

  router.get('/queues', async (_req, res) => {
    const queues = await withRedis(args.redis, () => readAllQueueStats(args.queues.values()));
    res.json({ prefix: args.prefix, queues });
  });

  router.post('/queues/:queue/jobs/:id/:action', requireRole('operator'), async (req: Request, res: Response) => {
    const action = String(req.params.action);
    if (!isAction(action)) {
      res.status(404).json({ error: 'not-found', message: `unknown action ${JSON.stringify(action)}: retry, remove or promote` });
      return;
    }
    const queueName = String(req.params.queue);
    const queue = args.queues.get(queueName);
    if (!queue) {
      res.status(404).json({ error: 'not-found', message: `no queue ${JSON.stringify(queueName)}` });
      return;
    }
    const id = String(req.params.id);
    const job: Job | undefined = await withRedis(args.redis, () => queue.getJob(id));
    if (!job) {
      res.status(404).json({ error: 'not-found', message: `no job ${JSON.stringify(id)} in queue ${queueName}` });
      return;
    }
    const state = await job.getState();
    if (!ALLOWED_STATES[action].includes(state)) {
      res.status(409).json({ error: 'conflict', message: `cannot ${action} a job that is ${state}`, state });
      return;
    }
    if (action === 'retry') await job.retry(state as 'failed' | 'completed');
    else if (action === 'promote') await job.promote();
    else await job.remove();
    args.log.info({ user: principalOf(res).name, queue: queueName, jobId: id, action, from: state }, 'board: job action');
    res.json({ ok: true, queue: queueName, id, action, previousState: state });
  });

  return router;
}

function isAction(value: string): value is Action {
  return value === 'retry' || value === 'remove' || value === 'promote';
}
