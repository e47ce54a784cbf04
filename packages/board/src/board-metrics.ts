/**
 * /metrics: Prometheus text from a registry of the board's own (not prom-client's global one, so
 * two boards in one process, as in tests, never share series), refreshed from Redis on each
 * scrape, followed by the fleet counters the workers keep (extraMetrics).
 */
import { Gauge, Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BoardLogger, BoardOptions, ExtraMetricsValue } from './board-options.js';
import { JOB_STATES, readAllQueueStats } from './queue-stats.js';
import { withRedis } from './redis-connection.js';

export interface BoardMetrics {
  contentType: string;
  render(): Promise<string>;
}

export function createBoardMetrics(args: {
  queues: ReadonlyMap<string, Queue>;
  connection: Redis;
  prefix: string;
  log: BoardLogger;
  extraMetrics: BoardOptions['extraMetrics'];
}): BoardMetrics {
  const registry = new Registry();
  const jobs = new Gauge({
    name: 'snapfleet_queue_jobs',
    help: 'Jobs in each queue by state (BullMQ getJobCounts).',
    labelNames: ['queue', 'state'],
    registers: [registry],
  });
  const paused = new Gauge({ name: 'snapfleet_queue_paused', help: '1 when the queue is paused.', labelNames: ['queue'], registers: [registry] });
  const redisUp = new Gauge({ name: 'snapfleet_board_redis_up', help: '1 when the last scrape could read the queues from Redis.', registers: [registry] });
  const extraUp = args.extraMetrics
    ? new Gauge({ name: 'snapfleet_board_extra_metrics_up', help: '1 when the fleet counters (extraMetrics) could be read.', registers: [registry] })
    : undefined;

  const refreshQueues = async (): Promise<void> => {
    try {
      const stats = await withRedis(args.connection, () => readAllQueueStats(args.queues.values()));
      // Applied in one synchronous step, so concurrent scrapes never see a half-reset registry.
      jobs.reset();
      paused.reset();
      for (const q of stats) {
        paused.set({ queue: q.name }, q.paused ? 1 : 0);
        for (const state of JOB_STATES) jobs.set({ queue: q.name, state }, q.counts[state]);
      }
      redisUp.set(1);
    } catch (err) {
      jobs.reset();
      paused.reset();
      redisUp.set(0);
      args.log.warn({ err: (err as Error).message }, 'board: could not read queue counts for /metrics');
    }
  };

  const readExtra = async (): Promise<string> => {
    if (!args.extraMetrics) return '';
    try {
      const extra = args.extraMetrics;
      const text = renderExtraMetrics(await withRedis(args.connection, () => extra({ connection: args.connection, prefix: args.prefix })));
      extraUp?.set(1);
      return text;
    } catch (err) {
      extraUp?.set(0);
      args.log.warn({ err: (err as Error).message }, 'board: extraMetrics failed');
      return '';
    }
  };

  return {
    contentType: registry.contentType,
    async render() {
      const [, extra] = await Promise.all([refreshQueues(), readExtra()]);
      return (await registry.metrics()) + extra;
    },
  };
}

const SERIES = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})?$/;

/** Exposition text for extraMetrics: text is passed through; a map becomes untyped samples. */
export function renderExtraMetrics(value: ExtraMetricsValue): string {
  if (typeof value === 'string') return value === '' || value.endsWith('\n') ? value : `${value}\n`;
  const byName = new Map<string, string[]>();
  for (const [series, sample] of Object.entries(value)) {
    const match = SERIES.exec(series);
    if (!match) throw new Error(`extraMetrics: not a Prometheus series name: ${JSON.stringify(series)}`);
    if (typeof sample !== 'number') throw new Error(`extraMetrics: ${series} is a ${typeof sample}, not a number`);
    const lines = byName.get(match[1]!) ?? [];
    lines.push(`${series} ${formatSample(sample)}`);
    byName.set(match[1]!, lines);
  }
  return [...byName].map(([name, lines]) => `# TYPE ${name} untyped\n${lines.join('\n')}\n`).join('');
}

function formatSample(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}
