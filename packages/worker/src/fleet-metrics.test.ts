/** The fleet-wide counters against real Redis: added up in memory, sent together once a second or on flush. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetMetricsKey } from '@snapfleet/shared/jobs';
import { createFleetMetrics, FLEET_METRICS_FLUSH_MS, readFleetMetrics } from './fleet-metrics.js';

const redis = new Redis({ host: '127.0.0.1', port: 6379 });
const prefix = `sf-test-metrics-${process.pid}-${randomBytes(3).toString('hex')}`;

afterAll(async () => {
  await redis.del(fleetMetricsKey(prefix));
  redis.disconnect();
});

describe('fleet metrics', () => {
  it('sends what jobs added up in one go, within a second, and the rest on flush', async () => {
    const m = createFleetMetrics(redis, prefix);
    m.jobFinished('snapshot', 'completed', 1500);
    m.jobFinished('snapshot', 'completed', 500);
    m.jobFinished('archive', 'failed', undefined);
    m.archived({ readBytes: 10, newBytes: 4, storedBytes: 2 });
    expect(await redis.exists(fleetMetricsKey(prefix))).toBe(0);
    await new Promise((r) => setTimeout(r, FLEET_METRICS_FLUSH_MS + 200));
    const sent = await readFleetMetrics(redis, prefix);
    expect(sent.jobsCompleted).toEqual({ snapshot: 2 });
    expect(sent.jobsFailed).toEqual({ archive: 1 });
    expect(sent.durationSecondsSum).toEqual({ snapshot: 2 });
    expect(sent.bytesRead).toBe(10);
    m.archiveSkipped();
    await m.flush();
    expect((await readFleetMetrics(redis, prefix)).archivesSkipped).toBe(1);
    await m.flush(); // nothing waiting: no write
  });
});
