/**
 * /metrics, /healthz and /livez of a planner or worker process (`fleet.metrics.listen`, or
 * `--metrics-listen`): Prometheus scrapes every process, not only the board, and an orchestrator
 * learns whether the process can do its work. Plain node:http, no auth: bind it to loopback or a
 * private interface (docs/operations.md). It serves this process's own series (the worker's job
 * counters and durations, and Node's process metrics); fleet-wide and per-volume series are the
 * board's.
 *
 * /healthz is readiness: 200 while Redis answers a PING within a second and the process is not
 * shutting down, else 503 (so a load balancer or a rollout waits); /livez is liveness: 200 while
 * the process serves HTTP at all.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Redis } from 'ioredis';

const PING_TIMEOUT_MS = 1_000;

export interface ProcessEndpoints {
  url: string;
  /** From now on /healthz answers 503: the process is draining. */
  draining(): void;
  close(): Promise<void>;
}

export async function startProcessEndpoints(args: {
  listen: { host: string; port: number };
  role: 'planner' | 'worker' | 'run';
  redis: Pick<Redis, 'ping'>;
  /** The process's own registries (the worker's FleetMetrics.registry); Node's metrics are added. */
  registries?: readonly Registry[];
}): Promise<ProcessEndpoints> {
  const own = new Registry();
  collectDefaultMetrics({ register: own, prefix: 'snapfleet_' });
  new Gauge({ name: 'snapfleet_process_role', help: 'This process and its role (always 1).', labelNames: ['role'], registers: [own] }).set(
    { role: args.role },
    1,
  );
  const metrics = Registry.merge([own, ...(args.registries ?? [])]);
  let draining = false;
  const ready = async (): Promise<string | undefined> => {
    if (draining) return 'shutting down';
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS)));
      await Promise.race([args.redis.ping(), timeout]).finally(() => clearTimeout(timer));
      return undefined;
    } catch {
      return 'redis unreachable';
    }
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/metrics') {
      metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (path === '/healthz') {
      void ready().then((why) => {
        res
          .writeHead(why ? 503 : 200, { 'content-type': 'application/json' })
          .end(JSON.stringify(why ? { status: 'unavailable', reason: why } : { status: 'ready', role: args.role }));
      });
    } else if (path === '/livez') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.listen.port, args.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = args.listen.host.includes(':') ? `[${args.listen.host}]` : args.listen.host;
  return {
    url: `http://${host}:${port}`,
    draining: () => void (draining = true),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
