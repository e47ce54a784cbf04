/**
 * Held retention changes and orphan expiry end to end, in real processes against real Redis and
 * a real folder repository: a policy's rules tightened past retentionGuard.maxShare delete
 * nothing until `snapfleet retention confirm` (recorded in the audit log); a volume that left the
 * config is reported gone with the time the orphans rule reaches it, the unconfirmed "delete"
 * rule is held too, and once confirmed the long-running fleet's search expires the volume's
 * archives and drops it from status, while the volume still covered keeps its own.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import {
  deletePrefix,
  fleetConfig,
  listSnapshots,
  makeFleet,
  spawnFleet,
  stopFleet,
  uniquePrefix,
  waitFor,
  type FleetFixture,
  type FleetProcess,
} from '../support/fleet.js';

const env = { REDIS_URL: 'redis://127.0.0.1:6379', USER: 'orphan-tester' };
const prefix = uniquePrefix('orphans');
let dir: string;
let fleet: FleetFixture;
let running: FleetProcess | undefined;

interface HeldJson {
  maxShare: number;
  held: { subject: string; policy: string; volumeId: string; tier: string; total: number; extra: number }[];
}
interface StatusJson {
  volumes: { policy: string; volumeId: string; state: string; orphanRuleFrom?: string }[];
  retentionHeld: HeldJson['held'];
}

function config(options: { keepLast: number | 'unlimited'; without?: string[]; orphans?: object }): object {
  const base = fleetConfig(fleet, { policy: { retention: { snapshotTier: { keepLast: 1 }, archiveTier: { keepLast: options.keepLast } } } }) as {
    volumes: Record<string, object>;
  };
  const volumes = Object.fromEntries(Object.entries(base.volumes).filter(([id]) => !(options.without ?? []).includes(id)));
  return { ...base, volumes, ...(options.orphans ? { orphans: options.orphans } : {}) };
}

async function cli(args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', fleet.config, '--prefix', prefix], env);
  expect(r.code, describeRun(r)).toBe(expectCode);
  return r;
}

const perVolume = async () => {
  const counts: Record<string, number> = {};
  for (const s of await listSnapshots(fleet)) counts[s.volumeId] = (counts[s.volumeId] ?? 0) + 1;
  return counts;
};

beforeAll(async () => {
  dir = await makeTempDir('orphans');
  fleet = await makeFleet(dir, { volumes: 2, sizeMiB: 1, config: (f) => fleetConfig(f) });
  await writeFile(fleet.config, JSON.stringify(config({ keepLast: 'unlimited' }), null, 2));
});
afterAll(async () => {
  if (running) await stopFleet(running, 5_000);
  await deletePrefix(prefix);
  await removeDir(dir);
});

it('holds a tightened policy until confirmed, then applies it', async () => {
  for (let i = 0; i < 3; i++) {
    await cli(['run', '--once']);
    await new Promise((r) => setTimeout(r, 1100)); // one slot per second
  }
  expect(await perVolume()).toEqual({ 'vol-01': 3, 'vol-02': 3 });

  // keepLast 1: 2 of 3 more than the accepted "unlimited" (67% > 25%).
  await writeFile(fleet.config, JSON.stringify(config({ keepLast: 1 }), null, 2));
  await cli(['run', '--once']);
  expect(await perVolume()).toEqual({ 'vol-01': 4, 'vol-02': 4 });
  const held = parseJson<HeldJson>(await cli(['retention', 'held', '--json']));
  expect(held.maxShare).toBe(0.25);
  expect(held.held.map((h) => [h.subject, h.volumeId, h.tier, h.extra, h.total]).sort()).toEqual([
    ['policy/every', 'vol-01', 'archive', 3, 4],
    ['policy/every', 'vol-02', 'archive', 3, 4],
  ]);
  const text = await cli(['status']);
  expect(text.stdout).toMatch(
    /retention changes held \(they would delete more than 25% of a volume's snapshots; snapfleet retention confirm\):\n {2}policy\/every: every\/vol-0[12] archive tier: 3 more of 4 snapshots \(75%\)/,
  );

  const missing = await runCli(['retention', 'confirm', '--config', fleet.config, '--prefix', prefix], env);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('--policy');
  const confirmed = await cli(['retention', 'confirm', '--policy', 'every']);
  expect(confirmed.stdout).toContain('accepted the rules of policy/every: 2 held change(s) go ahead');
  await cli(['run', '--once']);
  expect(await perVolume()).toEqual({ 'vol-01': 1, 'vol-02': 1 });
  expect(parseJson<HeldJson>(await cli(['retention', 'held', '--json'])).held).toEqual([]);

  const audit = parseJson<{ action: string; actor: string; target: string; outcome: string }[]>(
    await cli(['audit', '--json', '--action', 'retention-confirm']),
  );
  expect(audit).toEqual([
    expect.objectContaining({ action: 'retention-confirm', target: 'policy/every', outcome: 'ok', actor: expect.stringMatching(/^orphan-tester@/) }),
  ]);
});

it('reports a volume that left the config, holds the unconfirmed orphans rule, and expires it once confirmed', async () => {
  // vol-02 leaves; without an orphans rule its snapshot is kept, and status says so.
  await writeFile(fleet.config, JSON.stringify(config({ keepLast: 1, without: ['vol-02'] }), null, 2));
  await cli(['run', '--once']);
  const kept = await cli(['status']);
  expect(kept.stdout).toMatch(/GONE\s+every\/vol-02: .*; snapshots kept \(no orphans rule\)/);

  await writeFile(
    fleet.config,
    JSON.stringify(config({ keepLast: 1, without: ['vol-02'], orphans: { after: '1s', every: '1s', archiveTier: 'delete' } }), null, 2),
  );
  const s = parseJson<StatusJson>(await cli(['status', '--json']));
  const gone = s.volumes.find((v) => v.volumeId === 'vol-02')!;
  expect(gone.state).toBe('gone');
  expect(Date.parse(gone.orphanRuleFrom!)).toBeLessThan(Date.now());

  running = spawnFleet(['run', '--config', fleet.config, '--prefix', prefix], env);
  // "delete" against the policy's accepted keepLast 1: the one archive left is 100% more.
  const held = await waitFor(
    'the orphans rule held',
    async () => {
      const h = parseJson<HeldJson>(await cli(['retention', 'held', '--json'])).held;
      return h.length > 0 && h;
    },
    30_000,
  );
  expect(held).toEqual([expect.objectContaining({ subject: 'orphans', policy: 'every', volumeId: 'vol-02', tier: 'archive', extra: 1, total: 1 })]);
  expect((await perVolume())['vol-02']).toBe(1);

  await cli(['retention', 'confirm', '--orphans']);
  await waitFor(
    'vol-02 expired and dropped from status',
    async () => {
      const after = parseJson<StatusJson>(await cli(['status', '--json']));
      return !after.volumes.some((v) => v.volumeId === 'vol-02');
    },
    30_000,
  );
  await stopFleet(running, 15_000);
  running = undefined;
  const left = await perVolume();
  expect(left['vol-02']).toBeUndefined();
  expect(left['vol-01']).toBeGreaterThanOrEqual(1);
});
