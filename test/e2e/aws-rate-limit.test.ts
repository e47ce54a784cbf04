/**
 * `provider.limits.ebsBlockRequestsPerSecond` is one budget for the whole fleet: three worker
 * processes archiving three EBS volumes of one region at once stay under it together, measured
 * from the fake AWS world's per-process call logs ((count - 1) / (last - first) over every
 * GetSnapshotBlock), and still use most of it. A control run without the low limit shows that the
 * same fleet and measure see a much higher rate, so the limit is what holds the rate down.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, removeDir, runCli } from '../support/cli.js';
import { deletePrefix, spawnFleet, stopFleet, uniquePrefix, TEST_PASSWORD, type FleetProcess } from '../support/fleet.js';
import { AwsWorld, measuredRate, peakRate, type CallRecord } from '../support/aws-world/aws-world.js';
import { awsFleetConfig, backupNow, waitForFlows } from '../support/aws-world/aws-fleet-run.js';

/**
 * Small enough that three workers would exceed it several times over without the limiter. From
 * 50 points on the limiter keeps 2% headroom (49 per second here), so the few milliseconds by
 * which log times trail the grants cannot carry a correctly limited fleet over the limit.
 */
const LIMIT = 50;
/**
 * 3 x 100 blocks: ~6 s of reads at the limit, long enough for a steady rate and for all three
 * archives to overlap although they start up to a second or two apart (each snapshot is taken
 * under the EC2 limits first).
 */
const VOLUMES = 3;
const BLOCKS = 100;
/** The limiter paces every grant; "most of it" leaves room for start-up and the last volume's tail. */
const MIN_SHARE = 0.7;
/**
 * A one-second run of calls may look faster than the limit: each log time is taken after the
 * grant by an event loop that may be late (tens of milliseconds on a busy machine), and one late
 * call at the start of a run shortens it. A limiter that let a window's points through in a burst
 * would show many times the limit here, not half as much again.
 */
const PEAK_SLACK = 1.5;
/** The unlimited fleet is CPU-bound (hashing, zstd) at a few hundred blocks per second on a quiet machine. */
const UNLIMITED_FACTOR = 1.5;

interface FleetRun {
  calls: CallRecord[];
}

/** A fresh world, repository and prefix; three workers; one tick; the GetSnapshotBlock calls. */
async function runFleet(dir: string, label: string, limits?: object): Promise<FleetRun> {
  const world = AwsWorld.create(join(dir, 'world'));
  for (let i = 1; i <= VOLUMES; i++) await world.addVolume(`vol-0e2e00000000000${i}`, 'us-east-1', { backup: 'daily' }, 'D'.repeat(BLOCKS));
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, TEST_PASSWORD + '\n');
  const repo = join(dir, 'repo');
  const init = await runCli(['init', '--repo', repo, '--password-file', passwordFile]);
  if (init.code !== 0) throw new Error(describeRun(init));
  const config = join(dir, 'fleet.yaml');
  // One archive per worker at a time: each process reads one volume, all three at once.
  const fleet = { queues: { archive: { concurrency: 1 } } };
  await writeFile(config, JSON.stringify(awsFleetConfig({ regions: ['us-east-1'], repoUrl: repo, passwordFile, fleet, ...(limits ? { limits } : {}) })));
  const env = { ...world.env(), REDIS_URL: 'redis://127.0.0.1:6379', SNAPFLEET_LOG_LEVEL: 'info' };
  const prefix = uniquePrefix(`aws-rate-${label}`);
  const workers: FleetProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) workers.push(spawnFleet(['worker', '--config', config, '--prefix', prefix], env));
    // Every worker listening before the tick, so that the three archives go to three processes.
    await Promise.all(workers.map(started));
    const flows = await backupNow(config, 'daily', prefix, env);
    expect(flows).toHaveLength(VOLUMES);
    await waitForFlows(prefix, flows, 45_000);
  } finally {
    const results = await Promise.all(workers.map((w) => stopFleet(w, 5_000)));
    for (const r of results) expect(r.stderr, 'no job failed').not.toMatch(/"level":50/);
    await deletePrefix(prefix);
  }
  return { calls: world.calls('GetSnapshotBlock') };
}

/** Resolves at the worker's "worker started" log line. */
async function started(w: FleetProcess): Promise<void> {
  let seen = '';
  while (!seen.includes('"msg":"worker started"')) {
    if (w.child.exitCode !== null) throw new Error(`worker exited early: ${describeRun(await w.done)}`);
    const [chunk] = (await Promise.race([once(w.child.stderr!, 'data'), once(w.child, 'exit')])) as [unknown];
    seen += String(chunk);
  }
}

describe('the EBS block-request limit across worker processes', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('aws-rate');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it(`keeps three workers together at or under ${LIMIT} GetSnapshotBlock per second, and near it`, async () => {
    const { calls } = await runFleet(join(dir, 'limited'), 'limited', { ebsBlockRequestsPerSecond: LIMIT });
    expect(calls).toHaveLength(VOLUMES * BLOCKS);
    const byPid = new Map<number, CallRecord[]>();
    for (const c of calls) byPid.set(c.pid, [...(byPid.get(c.pid) ?? []), c]);
    expect(byPid.size, 'three processes read').toBe(3);
    // They read side by side: every process started reading before any had finished.
    const spans = [...byPid.values()].map((c) => [c[0]!.t, c.at(-1)!.t] as const);
    const t0 = calls[0]!.t;
    const described = JSON.stringify(spans.map(([a, b]) => [Math.round(a - t0), Math.round(b - t0)]));
    expect(Math.max(...spans.map((s) => s[0])), `read spans (ms) ${described}`).toBeLessThan(Math.min(...spans.map((s) => s[1])));

    const rate = measuredRate(calls);
    expect(rate).toBeLessThanOrEqual(LIMIT);
    expect(rate).toBeGreaterThanOrEqual(MIN_SHARE * LIMIT);
    expect(peakRate(calls, LIMIT)).toBeLessThanOrEqual(LIMIT * PEAK_SLACK);
  });

  it('runs the same fleet much faster without that limit (the measure can see more)', async () => {
    const { calls } = await runFleet(join(dir, 'free'), 'free');
    expect(calls).toHaveLength(VOLUMES * BLOCKS);
    expect(new Set(calls.map((c) => c.pid)).size).toBe(3);
    expect(measuredRate(calls)).toBeGreaterThan(UNLIMITED_FACTOR * LIMIT);
  });
});
