/**
 * Restore drills on AWS end to end, in real processes living in the fake AWS world
 * (test/support/aws-world): `drill.target: { provider: { volumeIn } }` restores a snapshot into a
 * new EBS snapshot through the EBS direct APIs, makes a volume of it, reads the snapshot back and
 * checks every block, records the RTO, and deletes the snapshot and the volume. Once the
 * repository's packs are corrupted a drill fails and alerts, and still leaves nothing behind.
 * A scratch snapshot left by a killed worker is swept by the next drill.
 */
import { createServer, type Server } from 'node:http';
import { open, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRun, listPacks, makeTempDir, parseJson, removeDir, runCli, type CliEnv } from '../support/cli.js';
import { deletePrefix, spawnFleet, stopFleet, uniquePrefix, waitFor, TEST_PASSWORD, type FleetProcess } from '../support/fleet.js';
import { AwsWorld } from '../support/aws-world/aws-world.js';
import { awsFleetConfig } from '../support/aws-world/aws-fleet-run.js';

const VOLUME = 'vol-0d71110000000000a';
const prefix = uniquePrefix('aws-drills');
let dir: string;
let world: AwsWorld;
let env: CliEnv;
let config: string;
let repo: string;
let server: Server;
let run: FleetProcess | undefined;
const alerts: Record<string, unknown>[] = [];

interface Drill {
  ok: boolean;
  snapshotId: string;
  rtoSeconds?: number;
  message?: string;
  at: string;
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
  dir = await makeTempDir('aws-drills');
  world = AwsWorld.create(join(dir, 'world'));
  await world.addVolume(VOLUME, 'us-east-1', { backup: 'daily' }, 'DD.D..DD');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, TEST_PASSWORD + '\n');
  repo = join(dir, 'repo');
  const init = await runCli(['init', '--repo', repo, '--password-file', passwordFile]);
  if (init.code !== 0) throw new Error(describeRun(init));
  env = world.env({ REDIS_URL: 'redis://127.0.0.1:6379', SNAPFLEET_LOG_LEVEL: 'warn' });
  const base = awsFleetConfig({ regions: ['us-east-1'], repoUrl: repo, passwordFile }) as { policies: object[] };
  config = join(dir, 'fleet.yaml');
  await writeFile(
    config,
    JSON.stringify({
      ...base,
      policies: [{ ...base.policies[0], drill: { schedule: { every: '2s' }, volumes: 1, target: { provider: { volumeIn: 'us-east-1a' } }, sweepAfter: '1m' } }],
      alerts: {
        checkEvery: '1h',
        targets: [{ name: 'ops', kind: 'webhook', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events: ['drill-failed'] }],
      },
    }),
  );
});
afterAll(async () => {
  if (run) await stopFleet(run, 10_000);
  server.close();
  await deletePrefix(prefix);
  await removeDir(dir);
});

async function lastDrill(): Promise<Drill | undefined> {
  const r = await runCli(['status', '--config', config, '--prefix', prefix, '--json'], env);
  expect(r.code, describeRun(r)).toBe(0);
  return parseJson<{ volumes: { volumeId: string; lastDrill?: Drill }[] }>(r).volumes.find((v) => v.volumeId === VOLUME)?.lastDrill;
}

/** What the drills made in the world: snapshots written with StartSnapshot, volumes made of snapshots. */
function scratchLeft(): { snapshots: string[]; volumes: string[] } {
  return {
    snapshots: world
      .snapshots()
      .filter((s) => s.origin === 'start')
      .map((s) => s.id),
    volumes: world.world
      .volumes()
      .filter((v) => v.id !== VOLUME)
      .map((v) => v.id),
  };
}

it('drills into a new EBS snapshot and volume, reports the RTO, deletes both; fails and alerts over a corrupted pack, deletes both', async () => {
  const once = await runCli(['run', '--config', config, '--once', '--prefix', prefix], env);
  expect(once.code, describeRun(once)).toBe(0);
  // A scratch copy a killed worker left behind two minutes ago: the first drill sweeps it.
  const leftover = world.world.newId('snap');
  await writeFile(world.snapshotImage(leftover), '');
  world.world.saveSnapshot({
    id: leftover,
    region: 'us-east-1',
    origin: 'start',
    volumeSizeGiB: 1,
    description: 'left by a killed drill',
    startTime: Date.now() - 120_000,
    state: 'pending',
    pendingPolls: 0,
    tags: [
      { Key: 'snapfleet:source', Value: 'drill' },
      { Key: 'snapfleet:drill-started', Value: new Date(Date.now() - 120_000).toISOString() },
    ],
  });

  run = spawnFleet(['run', '--config', config, '--prefix', prefix], env);
  const passed = await waitFor(
    'a passed drill',
    async () => {
      const d = await lastDrill();
      return d?.ok && d;
    },
    60_000,
  );
  expect(passed.snapshotId).toMatch(/^[0-9a-f]{64}$/);
  expect(passed.rtoSeconds).toBeGreaterThan(0);
  // The drill went through EBS: a snapshot started and completed, a volume created from it.
  expect(world.calls('StartSnapshot').length).toBeGreaterThan(0);
  expect(world.calls('CompleteSnapshot').length).toBeGreaterThan(0);
  expect(world.calls('CreateVolume').length).toBeGreaterThan(0);
  expect(world.calls('DeleteVolume').length).toBeGreaterThan(0);
  expect(world.world.snapshot(leftover)).toBeUndefined();
  const made = world.calls('StartSnapshot').length;

  for (const pack of await listPacks(repo)) {
    const fh = await open(pack.path, 'r+');
    try {
      await fh.write(Buffer.alloc(64, 0xa5), 0, 64, Math.floor(pack.size / 2));
    } finally {
      await fh.close();
    }
  }
  await waitFor('the drill-failed alert', async () => alerts.some((a) => a.event === 'drill-failed'), 60_000);
  const alert = alerts.find((a) => a.event === 'drill-failed')!;
  expect(String(alert.summary)).toMatch(new RegExp(`^restore drill of daily/${VOLUME} \\(snapshot [0-9a-f]{12}\\) failed: .*corrupt`, 'i'));
  const failed = await lastDrill();
  expect(failed?.ok).toBe(false);
  // The failed drill had started its scratch snapshot before the restore met the damage.
  expect(world.calls('StartSnapshot').length).toBeGreaterThan(made);

  await stopFleet(run);
  run = undefined;
  expect(scratchLeft()).toEqual({ snapshots: [], volumes: [] });
  // Every DeleteSnapshot and DeleteVolume named only what the drills made.
  const deleted = world.calls('DeleteSnapshot').map((c) => c.snapshotId);
  expect(deleted).not.toContain(undefined);
});
