/**
 * Metrics: prom-client for this process, and fleet-wide counters in one Redis hash under the
 * prefix (HINCRBY), so the board's /metrics can show the whole fleet however many workers run.
 * `readFleetMetrics` reads the hash back; `fleetMetricsText` renders it in Prometheus text format.
 *
 * The fleet-wide counters are added up in memory and sent once a second (and on `flush`, which
 * closing the worker calls): a MULTI of HINCRBYs per job was a tenth of a no-op job's CPU, and
 * a scrape a second late shows the same totals.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { fleetMetricsKey } from '@snapfleet/shared/jobs';

export interface FleetMetrics {
  readonly registry: Registry;
  jobFinished(queue: string, outcome: 'completed' | 'failed', durationMs: number | undefined): void;
  jobError(queue: string, kind: string): void;
  archived(bytes: { readBytes: number; newBytes: number; storedBytes: number }): void;
  /** An archive job the policy's archive selection passed over. */
  archiveSkipped(): void;
  /** Sends the fleet-wide counters added up since the last send. */
  flush(): Promise<void>;
}

/** How long fleet-wide counters are added up in memory before they are sent. */
export const FLEET_METRICS_FLUSH_MS = 1000;

export function createFleetMetrics(redis: Redis | undefined, prefix: string, onError?: (err: Error) => void): FleetMetrics {
  const registry = new Registry();
  const jobs = new Counter({
    name: 'snapfleet_jobs_total',
    help: 'Jobs finished by this process, by queue and outcome',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'snapfleet_job_errors_total',
    help: 'Failed job attempts by queue and error kind',
    labelNames: ['queue', 'kind'],
    registers: [registry],
  });
  // Buckets from a second (a retention job) to a few hours (a large full archive).
  const durations = new Histogram({
    name: 'snapfleet_job_duration_seconds',
    help: 'Job processing time',
    labelNames: ['queue'],
    buckets: [1, 5, 30, 120, 600, 1800, 3600, 4 * 3600],
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'snapfleet_archive_bytes_total',
    help: 'Bytes read from volumes, new (not deduplicated) and stored after compression',
    labelNames: ['kind'],
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'snapfleet_archives_skipped_total',
    help: 'Archive jobs completed without archiving: archive selection did not select their snapshot',
    registers: [registry],
  });
  const key = fleetMetricsKey(prefix);
  let pending = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!redis || pending.size === 0) return;
    const sending = pending;
    pending = new Map();
    const m = redis.multi();
    for (const [f, n] of sending) m.hincrby(key, f, n);
    await m.exec().then(
      () => undefined,
      (err: Error) => onError?.(err),
    );
  };
  const incr = (fields: Record<string, number>) => {
    if (!redis) return;
    for (const [f, n] of Object.entries(fields)) pending.set(f, (pending.get(f) ?? 0) + Math.round(n));
    if (!timer) {
      timer = setTimeout(() => void flush(), FLEET_METRICS_FLUSH_MS);
      timer.unref();
    }
  };
  return {
    registry,
    jobFinished(queue, outcome, durationMs) {
      jobs.inc({ queue, outcome });
      const fields: Record<string, number> = { [`jobs_${outcome}.${queue}`]: 1 };
      if (durationMs !== undefined && outcome === 'completed') {
        durations.observe({ queue }, durationMs / 1000);
        fields[`duration_ms_sum.${queue}`] = durationMs;
        fields[`duration_count.${queue}`] = 1;
      }
      incr(fields);
    },
    jobError(queue, kind) {
      errors.inc({ queue, kind });
      incr({ [`errors.${kind}`]: 1 });
    },
    archived(b) {
      bytes.inc({ kind: 'read' }, b.readBytes);
      bytes.inc({ kind: 'new' }, b.newBytes);
      bytes.inc({ kind: 'stored' }, b.storedBytes);
      incr({ bytes_read: b.readBytes, bytes_new: b.newBytes, bytes_stored: b.storedBytes });
    },
    archiveSkipped() {
      skipped.inc();
      incr({ archives_skipped: 1 });
    },
    flush,
  };
}

export interface FleetMetricsSnapshot {
  jobsCompleted: Record<string, number>;
  jobsFailed: Record<string, number>;
  durationSecondsSum: Record<string, number>;
  durationCount: Record<string, number>;
  errorsByKind: Record<string, number>;
  bytesRead: number;
  bytesNew: number;
  bytesStored: number;
  archivesSkipped: number;
}

/** The fleet-wide counters (every worker's), for the board's /metrics and `snapfleet status`. */
export async function readFleetMetrics(connection: Pick<Redis, 'hgetall'>, prefix: string): Promise<FleetMetricsSnapshot> {
  const raw = await connection.hgetall(fleetMetricsKey(prefix));
  const out: FleetMetricsSnapshot = {
    jobsCompleted: {},
    jobsFailed: {},
    durationSecondsSum: {},
    durationCount: {},
    errorsByKind: {},
    bytesRead: 0,
    bytesNew: 0,
    bytesStored: 0,
    archivesSkipped: 0,
  };
  for (const [field, text] of Object.entries(raw)) {
    const n = Number(text);
    const [name, label] = field.split('.', 2) as [string, string | undefined];
    if (name === 'jobs_completed' && label) out.jobsCompleted[label] = n;
    else if (name === 'jobs_failed' && label) out.jobsFailed[label] = n;
    else if (name === 'duration_ms_sum' && label) out.durationSecondsSum[label] = n / 1000;
    else if (name === 'duration_count' && label) out.durationCount[label] = n;
    else if (name === 'errors' && label) out.errorsByKind[label] = n;
    else if (name === 'bytes_read') out.bytesRead = n;
    else if (name === 'bytes_new') out.bytesNew = n;
    else if (name === 'bytes_stored') out.bytesStored = n;
    else if (name === 'archives_skipped') out.archivesSkipped = n;
  }
  return out;
}

/** The snapshot in Prometheus text exposition format (metric names prefixed `snapfleet_fleet_`). */
export function fleetMetricsText(m: FleetMetricsSnapshot): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, rows: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) lines.push(`${name}${labels} ${v}`);
  };
  const byQueue = (r: Record<string, number>, extra = '') => Object.entries(r).map(([q, v]): [string, number] => [`{queue="${q}"${extra}}`, v]);
  family('snapfleet_fleet_jobs_total', 'counter', 'Jobs finished across the fleet', [
    ...byQueue(m.jobsCompleted, ',outcome="completed"'),
    ...byQueue(m.jobsFailed, ',outcome="failed"'),
  ]);
  family('snapfleet_fleet_job_duration_seconds_sum', 'counter', 'Total processing time of completed jobs', byQueue(m.durationSecondsSum));
  family('snapfleet_fleet_job_duration_seconds_count', 'counter', 'Completed jobs timed', byQueue(m.durationCount));
  family(
    'snapfleet_fleet_job_errors_total',
    'counter',
    'Failed job attempts by error kind',
    Object.entries(m.errorsByKind).map(([k, v]): [string, number] => [`{kind="${k}"}`, v]),
  );
  family('snapfleet_fleet_archive_bytes_total', 'counter', 'Bytes read, new and stored by archives', [
    ['{kind="read"}', m.bytesRead],
    ['{kind="new"}', m.bytesNew],
    ['{kind="stored"}', m.bytesStored],
  ]);
  family('snapfleet_fleet_archives_skipped_total', 'counter', 'Archive jobs that archive selection passed over', [['', m.archivesSkipped]]);
  return lines.join('\n') + '\n';
}
