/**
 * Restore drills end to end, in real processes against real Redis: `run` with a policy drill
 * restores each volume's snapshots to scratch files, checks every block read back, reports the
 * restore time (RTO) in status, on the compliance page and in /metrics, and leaves no scratch
 * file behind; once a pack is corrupted, the next drill fails, says why, and alerts.
 */
import { createServer, type Server } from 'node:http';
import { open, readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRun, listPacks, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { deletePrefix, fleetConfig, makeFleet, spawnFleet, stopFleet, uniquePrefix, waitFor, type FleetFixture, type FleetProcess } from '../support/fleet.js';

const env = { REDIS_URL: 'redis://127.0.0.1:6379' };
const TOKEN = 'drills-e2e-board-token';
const prefix = uniquePrefix('drills');
let dir: string;
let scratch: string;
let fleet: FleetFixture;
let server: Server;
let run: FleetProcess | undefined;
const alerts: Record<string, unknown>[] = [];

interface Drill {
  at: string;
  snapshotId: string;
  ok: boolean;
  rtoSeconds?: number;
  message?: string;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      alerts.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  dir = await makeTempDir('drills');
  scratch = join(dir, 'scratch');
  await import('node:fs/promises').then((fs) => fs.mkdir(scratch));
  fleet = await makeFleet(dir, {
    volumes: 2,
    sizeMiB: 4,
    config: (f) => ({
      ...fleetConfig(f, { policy: { drill: { schedule: { every: '2s' }, volumes: 1, scratchDir: scratch } } }),
      board: { listen: '127.0.0.1:0', auth: { token: TOKEN } },
      alerts: {
        checkEvery: '1h',
        targets: [{ name: 'ops', kind: 'webhook', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events: ['drill-failed'] }],
      },
    }),
  });
});
afterAll(async () => {
  if (run) await stopFleet(run, 10_000);
  server.close();
  await deletePrefix(prefix);
  await removeDir(dir);
});

async function drills(): Promise<Map<string, Drill>> {
  const r = await runCli(['status', '--config', fleet.config, '--prefix', prefix, '--json'], env);
  expect(r.code, describeRun(r)).toBe(0);
  const s = parseJson<{ volumes: { volumeId: string; lastDrill?: Drill }[] }>(r);
  return new Map(s.volumes.filter((v) => v.lastDrill).map((v) => [v.volumeId, v.lastDrill!]));
}

it('drills every volume and reports its RTO, then fails and alerts over a corrupted pack', async () => {
  const once = await runCli(['run', '--config', fleet.config, '--once', '--prefix', prefix], env);
  expect(once.code, describeRun(once)).toBe(0);
  run = spawnFleet(['run', '--config', fleet.config, '--prefix', prefix], env);
  let stderr = '';
  run.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));

  // Volumes never drilled come first: within a few runs both have passed.
  const passed = await waitFor(
    'a passed drill of both volumes',
    async () => {
      const d = await drills();
      return d.size === 2 && [...d.values()].every((x) => x.ok) && d;
    },
    60_000,
  );
  for (const d of passed.values()) {
    expect(d.snapshotId).toMatch(/^[0-9a-f]{64}$/);
    expect(d.rtoSeconds).toBeGreaterThan(0);
  }
  const boardUrl = /snapfleet: board at (http:\/\/[^\s]+)\/board\//.exec(stderr)?.[1];
  expect(boardUrl, stderr).toBeDefined();
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
  const metrics = await (await fetch(`${boardUrl}/metrics`, auth)).text();
  expect(metrics).toContain('snapfleet_policy_drills{policy="every",result="passed"} 2\n');
  expect(metrics).toMatch(/snapfleet_volume_last_drill_rto_seconds\{policy="every",volume="vol-01"\} [0-9.]+\n/);
  expect(await (await fetch(`${boardUrl}/compliance/`, auth)).text()).toMatch(/<td class="drill"><span class="drill-ok">passed, RTO [0-9.]+s<\/span>/);

  // Flip bytes in the middle of every data pack: whichever snapshot the next drill takes, its
  // restore meets the damage.
  for (const pack of await listPacks(fleet.repo)) {
    const fh = await open(pack.path, 'r+');
    try {
      await fh.write(Buffer.alloc(64, 0xa5), 0, 64, Math.floor(pack.size / 2));
    } finally {
      await fh.close();
    }
  }
  await waitFor('the drill-failed alert', async () => alerts.some((a) => a.event === 'drill-failed'), 60_000);
  const alert = alerts.find((a) => a.event === 'drill-failed')!;
  expect(alert).toMatchObject({ source: 'snapfleet', fleet: prefix, policy: 'every' });
  expect(String(alert.summary)).toMatch(/^restore drill of every\/vol-0[12] \(snapshot [0-9a-f]{12}\) failed: .*corrupt/i);
  const failed = [...(await drills()).values()].filter((d) => !d.ok);
  expect(failed.length).toBeGreaterThan(0);
  expect(failed[0]!.message).toMatch(/corrupt/i);

  await stopFleet(run);
  run = undefined;
  expect(await readdir(scratch)).toEqual([]); // every scratch copy removed, the failed ones too
});
