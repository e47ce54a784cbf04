/**
 * `snapfleet run` with a `board:` section serves the board itself, from the same schema as
 * `snapfleet board`: it listens where `listen` says (port 0: a free port), refuses requests
 * without credentials and takes the configured user's, and the token SNAPFLEET_BOARD_TOKEN gives.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../support/cli.js';
import { deletePrefix, fleetConfig, makeFleet, spawnFleet, stopFleet, uniquePrefix, type FleetFixture, type FleetProcess } from '../support/fleet.js';

const USER = { name: 'olga', password: 'operator-pass-e2e' };
const ENV_TOKEN = 'token-from-the-environment-e2e';
const START_TIMEOUT_MS = 30_000;

let dir: string;
let fleet: FleetFixture;
const prefix = uniquePrefix('runboard');
let run: FleetProcess | undefined;

beforeAll(async () => {
  dir = await makeTempDir('run-board');
  fleet = await makeFleet(dir, {
    volumes: 1,
    sizeMiB: 4,
    config: (f) => ({ ...fleetConfig(f), board: { listen: '127.0.0.1:0', auth: { users: [{ ...USER, role: 'operator' }] } } }),
  });
});
afterAll(async () => {
  if (run) await stopFleet(run, 5_000);
  await deletePrefix(prefix);
  await removeDir(dir);
});

/** `run` writes "snapfleet: board at URL/board/" to stderr once the board listens. */
async function boardUrl(p: FleetProcess): Promise<string> {
  let seen = '';
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const m = /snapfleet: board at (http:\/\/[^\s]+)\/board\//.exec(seen);
    if (m) return m[1]!;
    if (p.child.exitCode !== null || Date.now() > deadline) throw new Error(`no board URL from run:\n${seen}`);
    const [chunk] = (await Promise.race([once(p.child.stderr!, 'data'), once(p.child, 'exit')])) as [unknown];
    seen += String(chunk ?? '');
  }
}

it('serves the board where board.listen says, behind the configured users', async () => {
  run = spawnFleet(['run', '--config', fleet.config, '--prefix', prefix], { REDIS_URL: 'redis://127.0.0.1:6379', SNAPFLEET_BOARD_TOKEN: ENV_TOKEN });
  const url = await boardUrl(run);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(url).not.toMatch(/:0$/);
  expect((await fetch(`${url}/board/`)).status).toBe(401);
  const auth = `Basic ${Buffer.from(`${USER.name}:${USER.password}`).toString('base64')}`;
  expect((await fetch(`${url}/board/`, { headers: { authorization: auth } })).status).toBe(200);
  expect((await fetch(`${url}/board/`, { headers: { authorization: `Basic ${Buffer.from(`${USER.name}:wrong-password`).toString('base64')}` } })).status).toBe(
    401,
  );
  expect((await fetch(`${url}/board/`, { headers: { authorization: `Bearer ${ENV_TOKEN}` } })).status).toBe(200);
  expect((await fetch(`${url}/board/`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
});
