/**
 * startBoard: the board's HTTP server. Composes the pieces (probes, auth, Bull Board, ops API,
 * metrics) over one Redis connection and one BullMQ Queue per configured queue name.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { Queue } from 'bullmq';
import { DEFAULT_PREFIX, silentLogger, type BoardLogger, type BoardOptions, type RunningBoard } from './board-options.js';
import { authenticate, sameOriginOnly } from './auth/auth-middleware.js';
import { createAuthenticator } from './auth/credentials.js';
import { createBoardMetrics } from './board-metrics.js';
import { BOARD_PATH, createBullBoardHandler } from './bull-board-routes.js';
import { createHealthRoutes } from './health-routes.js';
import { createOpsApi } from './ops-api.js';
import { createCompliancePage } from './compliance-page.js';
import { auditTrail } from './audit-trail.js';
import type { Redis } from 'ioredis';
import { createRedisConnection, RedisUnavailableError, whenReady } from './redis-connection.js';

export async function startBoard(options: BoardOptions): Promise<RunningBoard> {
  const log = options.log ?? silentLogger;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  // Built first: a board with no way in (or an open one nobody asked for) never starts.
  const authenticator = createAuthenticator(options.auth);
  if (options.queueNames.length === 0) throw new Error('board: no queues to show');

  const redis = createRedisConnection(options.connection, log);
  const queues = new Map(options.queueNames.map((name) => [name, new Queue(name, { connection: redis, prefix, skipMetasUpdate: true })]));
  // The connection's own 'error' handler logs outages once; without a listener here BullMQ would
  // print every reconnect attempt.
  for (const queue of queues.values()) queue.on('error', () => {});
  const metrics = createBoardMetrics({ queues, connection: redis, prefix, log, extraMetrics: options.extraMetrics });
  const requireAuth = authenticate(authenticator, log);

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  const audit = options.audit;
  if (audit) app.use(auditTrail((entry) => audit({ connection: redis, prefix }, entry), log));
  app.use(createHealthRoutes(redis));
  app.get('/', (_req, res) => res.redirect(`${BOARD_PATH}/`));
  app.get('/metrics', requireAuth, async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.render());
  });
  app.use('/api', requireAuth, sameOriginOnly(), noStore, createOpsApi({ queues, redis, prefix, log }));
  if (options.compliance) {
    const page = createCompliancePage(options.compliance, { connection: redis, prefix }, `RPO compliance: snapfleet (${prefix})`);
    app.use('/compliance', requireAuth, noStore, (_req, _res, next) => whenReady(redis).then(() => next(), next), page);
  }
  app.use(BOARD_PATH, requireAuth, sameOriginOnly(), redisGate(redis), createBullBoardHandler([...queues.values()], prefix));
  app.use(errorHandler(log));

  const server: Server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, app) : createServer(app);
  const closeQueuesAndRedis = async (): Promise<void> => {
    await Promise.allSettled([...queues.values()].map((q) => q.close()));
    redis.disconnect();
  };
  try {
    await listen(server, options.listen.host, options.listen.port);
  } catch (err) {
    await closeQueuesAndRedis();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = options.listen.host.includes(':') ? `[${options.listen.host}]` : options.listen.host;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;
  log.info({ url: `${url}${BOARD_PATH}/`, prefix, queues: options.queueNames, auth: describeAuth(options) }, 'board: listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive connections (browsers, Prometheus) would otherwise hold close() open.
          server.closeAllConnections();
        });
        await closeQueuesAndRedis();
      })()),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** For the start-up log line: which ways in exist, never the secrets. */
function describeAuth(options: BoardOptions): string[] {
  const modes: string[] = [];
  if (options.auth.token !== undefined) modes.push('token');
  for (const u of options.auth.users ?? []) modes.push(`user ${u.name} (${u.role})`);
  if (options.auth.anonymous) modes.push('anonymous (viewer)');
  return modes;
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // The board has buttons that act on jobs: it must not be framed by another site (clickjacking).
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};

/**
 * Bull Board's API would wait out a Redis outage: it answers 503 instead (the UI polls again).
 * It is let through only once the connection is ready: while ioredis is between reconnect
 * attempts ('connecting') its reads would wait for the next success, however long that takes.
 */
function redisGate(redis: Redis): RequestHandler {
  return (req, _res, next) => {
    if (!req.path.startsWith('/api/')) {
      next();
      return;
    }
    whenReady(redis).then(() => next(), next);
  };
}

const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** Redis being away is the common failure: it answers 503 (try again), anything else 500. */
function errorHandler(log: BoardLogger): ErrorRequestHandler {
  return (err: Error, req, res, _next) => {
    const unavailable =
      err instanceof RedisUnavailableError || /Connection is closed|enableOfflineQueue|ECONNREFUSED|ETIMEDOUT|Stream isn't writeable/i.test(err.message);
    log.error({ err: err.message, path: req.path }, 'board: request failed');
    if (res.headersSent) return;
    res
      .status(unavailable ? 503 : 500)
      .json({ error: unavailable ? 'unavailable' : 'internal', message: unavailable ? 'Redis is unreachable' : 'internal error' });
  };
}
