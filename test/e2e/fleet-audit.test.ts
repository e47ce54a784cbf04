/**
 * The fleet's audit log end to end, in real processes against real Redis: backup-now, config
 * reloads (rejected and applied) and board actions (an operator's and a viewer's refused one) each
 * leave one entry with who, what, when and the outcome, `snapfleet audit` lists and filters them,
 * and no entry holds a secret.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import {
  deletePrefix,
  fleetConfig,
  makeFleet,
  spawnFleet,
  stderrMatch,
  stopFleet,
  uniquePrefix,
  waitFor,
  type FleetFixture,
  type FleetProcess,
} from '../support/fleet.js';

const env = { REDIS_URL: 'redis://127.0.0.1:6379', USER: 'olga' };
const TOKEN = 'audit-e2e-board-token-0123';
const VIEWER = { name: 'vera', password: 'viewer-pass-e2e' };
const prefix = uniquePrefix('audit');
let dir: string;
let fleet: FleetFixture;
let run: FleetProcess | undefined;

interface Entry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  details?: Record<string, unknown>;
}

const config = (f: Omit<FleetFixture, 'config'>) => ({
  ...fleetConfig(f),
  board: { listen: '127.0.0.1:0', auth: { token: TOKEN, users: [{ ...VIEWER, role: 'viewer' }] } },
});

beforeAll(async () => {
  dir = await makeTempDir('audit');
  fleet = await makeFleet(dir, { volumes: 1, sizeMiB: 1, config });
  await writeFile(`${fleet.config}.copy`, await readFile(fleet.config));
});
afterAll(async () => {
  if (run) await stopFleet(run, 10_000);
  await deletePrefix(prefix);
  await removeDir(dir);
});

/** `snapfleet audit` over a copy of the config: the test breaks the one `run` reads on purpose. */
async function audit(...args: string[]): Promise<Entry[]> {
  const r = await runCli(['audit', '--config', `${fleet.config}.copy`, '--prefix', prefix, '--json', ...args], env);
  expect(r.code, describeRun(r)).toBe(0);
  return parseJson<Entry[]>(r);
}

it('records backup-now, config reloads and board actions, and lists them', async () => {
  const now = await runCli(['backup-now', '--config', fleet.config, '--prefix', prefix, '--policy', 'every', '--json'], env);
  expect(now.code, describeRun(now)).toBe(0);
  const slot = parseJson<{ slot: string }>(now).slot;
  expect(await audit()).toEqual([
    expect.objectContaining({
      action: 'backup-now',
      target: 'every',
      outcome: 'ok',
      actor: expect.stringMatching(/^olga@.+ \(backup-now\)$/),
      details: { slot, volumes: 1 },
    }),
  ]);

  run = spawnFleet(['run', '--config', fleet.config, '--prefix', prefix], env);
  const url = await stderrMatch(run, /snapfleet: board at (http:\/\/[^\s]+)\/board\//, 'the board URL');

  // A broken config is refused, then a good one applied.
  const good = await readFile(fleet.config, 'utf8');
  await writeFile(fleet.config, '{ "policies": [ { "name": "x" } ] }');
  run.child.kill('SIGHUP');
  await waitFor('the refused reload', async () => (await audit('--action', 'config-reload')).length === 1, 30_000);
  await writeFile(fleet.config, good);
  run.child.kill('SIGHUP');
  await waitFor('the applied reload', async () => (await audit('--action', 'config-reload')).length === 2, 30_000);
  const reloads = await audit('--action', 'config-reload');
  expect(reloads.map((e) => [e.outcome, e.target])).toEqual([
    ['refused', fleet.config],
    ['ok', fleet.config],
  ]);
  expect(reloads[0]!.actor).toMatch(/^olga@.+ \(run\)$/);

  // The operator removes the finished snapshot job; the viewer may not.
  const jobId = `snapshot-every-vol-01-${slot}`;
  await waitFor(
    'the snapshot job to finish',
    async () => {
      const r = await fetch(`${url}/api/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const q = ((await r.json()) as { queues: { name: string; counts: Record<string, number> }[] }).queues.find((x) => x.name === 'snapshot')!;
      return q.counts.completed! + q.counts.failed! > 0;
    },
    60_000,
  );
  const viewer = await fetch(`${url}/api/queues/snapshot/jobs/${jobId}/remove`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${VIEWER.name}:${VIEWER.password}`).toString('base64')}` },
  });
  expect(viewer.status).toBe(403);
  const operator = await fetch(`${url}/api/queues/snapshot/jobs/${jobId}/remove`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(operator.status).toBe(200);
  const removals = await waitFor(
    'two job-remove entries',
    async () => {
      const e = await audit('--action', 'job-remove');
      return e.length === 2 && e;
    },
    10_000,
  );
  expect(removals.map((e) => [e.actor, e.outcome, e.target])).toEqual([
    ['vera (board, basic)', 'refused', `snapshot/${jobId}`],
    ['token (board, token)', 'ok', `snapshot/${jobId}`],
  ]);

  const all = await audit();
  expect(all.map((e) => e.action)).toEqual(['backup-now', 'config-reload', 'config-reload', 'job-remove', 'job-remove']);
  expect((await audit('--since', all[3]!.at)).map((e) => e.action)).toEqual(['job-remove', 'job-remove']);
  const text = await runCli(['audit', '--config', `${fleet.config}.copy`, '--prefix', prefix, '--limit', '1'], env);
  expect(text.stdout).toMatch(/^\S+Z {2}ok {6}job-remove {4}snapshot\/snapshot-every-vol-01-\S+ {2}by token \(board, token\) method=POST status=200\n$/);
  const password = (await readFile(fleet.passwordFile, 'utf8')).trim();
  for (const secret of [TOKEN, VIEWER.password, password]) expect(JSON.stringify(all)).not.toContain(secret);
});
