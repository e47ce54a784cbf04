/** The fleet-wide counters against real Redis: added up in memory, sent together once a second or on flush. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, onTestFinished, vi } from 'vitest';
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
    await redis.ping(); // connected before the clock is faked
    // The send is a setTimeout, faked here. A read on the same connection is answered after
    // the write the timer started, so nothing needs to wait for it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => void vi.useRealTimers());
    const m = createFleetMetrics(redis, prefix);
    m.jobFinished('snapshot', 'completed', 1500);
    m.jobFinished('snapshot', 'completed', 500);
    m.jobFinished('archive', 'failed', undefined);
    m.archived({ readBytes: 10, newBytes: 4, storedBytes: 2 });
    await vi.advanceTimersByTimeAsync(FLEET_METRICS_FLUSH_MS - 1);
    expect(await redis.exists(fleetMetricsKey(prefix))).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
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
