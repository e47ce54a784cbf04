/**
 * RPO compliance end to end, in real processes against real Redis: after `run --once`, a volume
 * whose snapshot job fails (its image is missing) shows in `status` as pending its first backup
 * (covered for less than the RPO), with the failure that caused it (not its parents' "child
 * failed"); a volume that left the config shows as gone; the board's /metrics (`snapfleet
 * board`) counts them from the fleet's records alone. fleet-alerts.test.ts shows the breach.
 */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { deletePrefix, fleetConfig, makeFleet, spawnFleet, stopFleet, uniquePrefix, type FleetFixture, type FleetProcess } from '../support/fleet.js';

const TOKEN = 'compliance-e2e-board-token';
const env = { REDIS_URL: 'redis://127.0.0.1:6379' };
const prefix = uniquePrefix('rpo');
let dir: string;
let fleet: FleetFixture;
let board: FleetProcess | undefined;

interface StatusJson {
  policies: { policy: string; rpoSeconds: number; volumes: number; breached: number; never: number; pending: number; gone: number }[];
  volumes: {
    policy: string;
    volumeId: string;
    state: string;
    ageSeconds?: number;
    rpoSeconds?: number;
    lastArchive?: { id: string };
    lastError?: { queue: string; message: string };
  }[];
}

/** The fixture's config plus a volume whose image does not exist, minus the volumes named. */
function config(without: string[] = []): object {
  const base = fleetConfig(fleet, { policy: { rpo: '2h' } }) as { volumes: Record<string, object> };
  const volumes = Object.fromEntries(Object.entries(base.volumes).filter(([id]) => !without.includes(id)));
  return {
    ...base,
    volumes: { ...volumes, 'vol-missing': { path: join(dir, 'no-such.img'), tags: ['test'] } },
    board: { listen: '127.0.0.1:0', auth: { token: TOKEN } },
  };
}

async function status(): Promise<StatusJson> {
  const r = await runCli(['status', '--config', fleet.config, '--prefix', prefix, '--json'], env);
  expect(r.code, describeRun(r)).toBe(0);
  return parseJson<StatusJson>(r);
}

beforeAll(async () => {
  dir = await makeTempDir('compliance');
  fleet = await makeFleet(dir, { volumes: 2, sizeMiB: 4, config: (f) => fleetConfig(f) });
  await writeFile(fleet.config, JSON.stringify(config(), null, 2));
});
afterAll(async () => {
  if (board) await stopFleet(board, 5_000);
  await deletePrefix(prefix);
  await removeDir(dir);
});

it('status reports each volume against the RPO, worst first, with the failure that caused it', async () => {
  const run = await runCli(['run', '--config', fleet.config, '--once', '--prefix', prefix, '--json'], env);
  expect(run.code, describeRun(run)).toBe(1); // one volume failed
  const s = await status();
  expect(s.policies).toEqual([{ policy: 'every', rpoSeconds: 7200, volumes: 3, breached: 0, never: 0, pending: 1, gone: 0 }]);
  expect(Object.fromEntries(s.volumes.map((v) => [v.volumeId, v.state]))).toEqual({ 'vol-missing': 'pending', 'vol-01': 'ok', 'vol-02': 'ok' });
  const missing = s.volumes.find((v) => v.volumeId === 'vol-missing')!;
  expect(missing.lastError?.queue).toBe('snapshot');
  expect(missing.lastError?.message).toContain('no-such.img');
  for (const v of s.volumes.filter((x) => x !== missing)) {
    expect(v.lastArchive?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(v.ageSeconds).toBeLessThan(v.rpoSeconds!);
  }

  // vol-02 leaves the config: its archives are still there, so it is reported, not dropped.
  await writeFile(fleet.config, JSON.stringify(config(['vol-02']), null, 2));
  const after = await status();
  // Worst first: the volume that left comes before the ones within their RPO.
  expect(after.volumes[0]).toMatchObject({ volumeId: 'vol-02', state: 'gone' });
  expect(Object.fromEntries(after.volumes.map((v) => [v.volumeId, v.state]))).toEqual({ 'vol-missing': 'pending', 'vol-02': 'gone', 'vol-01': 'ok' });
  expect(after.policies[0]).toMatchObject({ volumes: 2, pending: 1, gone: 1 });

  const text = await runCli(['status', '--config', fleet.config, '--prefix', prefix], env);
  expect(text.stdout).toMatch(/every: RPO 2h: 2 volumes, 0 breached, 0 never, 1 pending, 1 gone/);
  expect(text.stdout).toMatch(
    /PENDING\s+every\/vol-missing: no recovery point \(covered since [^,]+, RPO 2h\); last error \(snapshot, [^)]+\): .*no-such\.img/,
  );
});

it("the board's /metrics counts volumes per RPO state from the fleet's records", async () => {
  board = spawnFleet(['board', '--config', fleet.config, '--prefix', prefix], { ...env, SNAPFLEET_BOARD_TOKEN: TOKEN });
  let log = '';
  let url: string | undefined;
  while (!url) {
    const [chunk] = (await Promise.race([once(board.child.stderr!, 'data'), once(board.child, 'exit')])) as [unknown];
    if (board.child.exitCode !== null) throw new Error(`board exited:\n${log}`);
    log += String(chunk ?? '');
    url = /"url":"(http:\/\/[^"]+)\/board\/"/.exec(log)?.[1];
  }
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  const metrics = await res.text();
  expect(metrics).toContain('snapfleet_policy_rpo_seconds{policy="every"} 7200\n');
  // The planner recorded the three volumes it covered then; vol-02 has since left the config,
  // but the board judges by that discovery until the next one.
  expect(metrics).toContain('snapfleet_policy_volumes{policy="every",state="pending"} 1\n');
  expect(metrics).toContain('snapfleet_policy_volumes{policy="every",state="ok"} 2\n');
  expect(metrics).toContain('snapfleet_volume_rpo_breached{policy="every",volume="vol-missing"} 0\n');
  expect(metrics).toContain('snapfleet_volume_rpo_breached{policy="every",volume="vol-01"} 0\n');
  expect(metrics).toMatch(/snapfleet_volume_recovery_point_age_seconds\{policy="every",volume="vol-01",state="ok"\} \d+\n/);
});
