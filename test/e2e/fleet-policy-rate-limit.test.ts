/**
 * A policy's `rateLimit` caps how many of its archives start per duration across the fleet: with
 * 1 per 4s and an archive queue that would run 4 at once, archives start at least ~4 s apart
 * (jobs over budget are re-delayed, not failed), and every volume is still backed up. The same
 * fleet without the limit starts archives together, so the measure can see a violation.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli, type CliResult } from '../support/cli.js';
import { deletePrefix, fleetConfig, makeFleet, SHARED_REDIS_URL, uniquePrefix, type FleetFixture } from '../support/fleet.js';

interface LogLine {
  time: number;
  msg: string;
  queue?: string;
  jobId?: string;
}

const DURATION_MS = 4_000;
/**
 * Time between a job taking its point and logging 'archiving' varies: the first archive also
 * opens the repository (scrypt, ~100 ms idle, several times that on a loaded machine). Starts are
 * compared over a window this much shorter than the limiter's; without the limit they are
 * milliseconds apart, far inside it.
 */
const LOG_SLACK_MS = 2_000;
const env = { REDIS_URL: SHARED_REDIS_URL, SNAPFLEET_LOG_LEVEL: 'debug' };

function logLines(run: CliResult): LogLine[] {
  return run.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** The most archives that started ('archiving', logged in the processor) within any window of `windowMs`. */
function maxStartsWithin(lines: LogLine[], windowMs: number): number {
  const starts = lines
    .filter((l) => l.msg === 'archiving')
    .map((l) => l.time)
    .sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('policy rate limit', () => {
  let dir: string;
  let fleet: FleetFixture;
  const prefix = uniquePrefix('policy-rate');

  beforeAll(async () => {
    dir = await makeTempDir('fleet-policy-rate');
    fleet = await makeFleet(dir, {
      volumes: 4,
      sizeMiB: 4,
      config: (f) => fleetConfig(f, { fleet: { queues: { archive: { concurrency: 4 } } }, policy: { rateLimit: { max: 1, duration: '4s' } } }),
    });
  });
  afterAll(async () => {
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  it('starts at most one archive of the policy per duration, re-delaying the others', async () => {
    const run = await runCli(['run', '--config', fleet.config, '--once', '--prefix', prefix, '--json'], env);
    expect(run.code, describeRun(run)).toBe(0);
    const summary = parseJson<{ volumes: { state: string }[] }>(run);
    expect(summary.volumes.map((v) => v.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    const lines = logLines(run);
    expect(lines.filter((l) => l.msg === 'archiving')).toHaveLength(4);
    expect(maxStartsWithin(lines, DURATION_MS - LOG_SLACK_MS)).toBe(1);
    // Over-budget jobs waited delayed, without failing an attempt.
    expect(lines.filter((l) => l.msg.startsWith('policy every is over its rate limit (1 per 4s archives); re-delaying')).length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.msg === 'job attempt failed; will retry' || l.msg === 'job failed')).toEqual([]);
  });

  it('starts the same archives together without the limit (the measure above can see a violation)', async () => {
    // A fleet of its own: the first test's snapshots would make these archives no-ops.
    const freeDir = join(dir, 'unlimited');
    await mkdir(freeDir);
    const unlimited = await makeFleet(freeDir, {
      volumes: 4,
      sizeMiB: 4,
      config: (f) => fleetConfig(f, { fleet: { queues: { archive: { concurrency: 4 } } } }),
    });
    const freePrefix = uniquePrefix('policy-rate-free');
    try {
      const run = await runCli(['run', '--config', unlimited.config, '--once', '--prefix', freePrefix, '--json'], env);
      expect(run.code, describeRun(run)).toBe(0);
      expect(maxStartsWithin(logLines(run), DURATION_MS - LOG_SLACK_MS)).toBeGreaterThan(1);
    } finally {
      await deletePrefix(freePrefix);
    }
  });

  it('rejects a duration that is not whole seconds, naming the field', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, JSON.stringify(fleetConfig(fleet, { policy: { rateLimit: { max: 1, duration: '1500ms' } } })));
    const r = await runCli(['run', '--config', bad, '--once', '--prefix', prefix]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('policies[0].rateLimit.duration: must be whole seconds');
  });
});
