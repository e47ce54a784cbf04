/**
 * Probes, without authentication (they reveal nothing but up / not up): /healthz says the process
 * serves HTTP (liveness: restart me if this fails); /readyz says Redis answers (readiness: send me
 * traffic). A Redis outage must not get the board restarted, so only /readyz looks at Redis.
 */
import express, { type Router } from 'express';
import type { Redis } from 'ioredis';
import { pingRedis } from './redis-connection.js';

export function createHealthRoutes(redis: Redis): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await pingRedis(redis);
      res.json({ status: 'ready', redis: 'ok' });
    } catch {
      // No detail here: the probe is unauthenticated, and the reason is in the board's log.
      res.status(503).json({ status: 'unavailable', redis: 'unreachable' });
    }
  });
  return router;
}
