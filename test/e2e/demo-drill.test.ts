/**
 * A restore drill on the demo fleet: `snapfleet demo init` writes a policy with a drill; with its
 * schedule made fast, `snapfleet run` restores a snapshot of a demo volume to a scratch file,
 * checks every block and reports the RTO in `snapfleet status --json`, leaving no scratch file.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { deletePrefix, spawnFleet, stopFleet, uniquePrefix, waitFor, type FleetProcess } from '../support/fleet.js';

const env = { REDIS_URL: 'redis://127.0.0.1:6379' };
const prefix = uniquePrefix('demo-drill');
let dir: string;
let run: FleetProcess | undefined;

beforeAll(async () => {
  dir = await makeTempDir('demo-drill');
});
afterAll(async () => {
  if (run) await stopFleet(run, 10_000);
  await deletePrefix(prefix);
  await removeDir(dir);
});

it('restores and verifies a snapshot of a demo volume and reports its RTO', async () => {
  const init = await runCli(['demo', 'init', dir, '--volumes', '2', '--size-mib', '8']);
  expect(init.code, describeRun(init)).toBe(0);
  const config = join(dir, 'fleet.yaml');
  const text = await readFile(config, 'utf8');
  // The demo's drill, as written, runs daily: here every two seconds, into a folder the test watches.
  const drill = / {4}drill:[^\n]*\n {6}schedule: \{ every: 1d \}\n {6}volumes: 1\n/;
  expect(text).toMatch(drill);
  const scratch = join(dir, 'scratch');
  await import('node:fs/promises').then((fs) => fs.mkdir(scratch));
  await writeFile(config, text.replace(drill, `    drill:\n      schedule: { every: 2s }\n      volumes: 1\n      scratchDir: ${scratch}\n`));

  const once = await runCli(['run', '--config', config, '--once', '--prefix', prefix], env);
  expect(once.code, describeRun(once)).toBe(0);
  run = spawnFleet(['run', '--config', config, '--prefix', prefix], env);
  const drilled = await waitFor(
    'a passed drill of a demo volume',
    async () => {
      const r = await runCli(['status', '--config', config, '--prefix', prefix, '--json'], env);
      expect(r.code, describeRun(r)).toBe(0);
      const status = parseJson<{ volumes: { volumeId: string; policy: string; lastDrill?: { ok: boolean; snapshotId: string; rtoSeconds?: number } }[] }>(r);
      return status.volumes.find((v) => v.lastDrill?.ok);
    },
    60_000,
  );
  expect(drilled.volumeId).toMatch(/^demo-[12]$/);
  expect(drilled.policy).toBe('hourly');
  expect(drilled.lastDrill!.snapshotId).toMatch(/^[0-9a-f]{64}$/);
  expect(drilled.lastDrill!.rtoSeconds).toBeGreaterThan(0);

  await stopFleet(run);
  run = undefined;
  expect(await readdir(scratch)).toEqual([]);
});
