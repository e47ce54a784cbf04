/**
 * The board without plain-text passwords in fleet.yaml, over TLS: `snapfleet board
 * --hash-password FILE` makes a scrypt hash for `passwordHash`, another user's password comes from
 * the environment (`passwordEnv`), and `board.tls` serves HTTPS with a certificate made here
 * (openssl). Wrong credentials get 401; no password reaches the log.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRun, makeTempDir, removeDir, runCli } from '../support/cli.js';
import { spawnFleet, stderrMatch, stopFleet, uniquePrefix, type FleetProcess } from '../support/fleet.js';

const ALICE = 'alice-long-password-e2e';
const VERA = 'vera-from-the-environment';
let dir: string;
let board: FleetProcess | undefined;

beforeAll(async () => {
  dir = await makeTempDir('board-tls');
});
afterAll(async () => {
  if (board) await stopFleet(board, 5_000);
  await removeDir(dir);
});

/** GET over HTTPS trusting only the test's own certificate. */
function get(url: string, ca: Buffer, auth?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: auth ? { authorization: auth } : {} }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

it('serves HTTPS to users whose passwords are a hash and an environment variable', async () => {
  await writeFile(join(dir, 'alice.txt'), `${ALICE}\n`);
  const hashed = await runCli(['board', '--hash-password', join(dir, 'alice.txt')]);
  expect(hashed.code, describeRun(hashed)).toBe(0);
  const hash = hashed.stdout.trim();
  expect(hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);

  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const ca = await readFile(join(dir, 'cert.pem'));
  const config = join(dir, 'fleet.yaml');
  await writeFile(
    config,
    JSON.stringify({
      board: {
        listen: '127.0.0.1:0',
        tls: { certFile: 'cert.pem', keyFile: 'key.pem' },
        auth: {
          users: [
            { name: 'alice', passwordHash: hash, role: 'operator' },
            { name: 'vera', passwordEnv: 'VERA_BOARD_PASSWORD' },
          ],
        },
      },
    }),
  );
  board = spawnFleet(['board', '--config', config, '--prefix', uniquePrefix('tls')], { REDIS_URL: 'redis://127.0.0.1:6379', VERA_BOARD_PASSWORD: VERA });
  const url = await stderrMatch(board, /"url":"(https:\/\/[^"]+)\/board\/"/, 'the board URL');

  expect(await get(`${url}/board/`, ca)).toBe(401);
  expect(await get(`${url}/board/`, ca, basic('alice', ALICE))).toBe(200);
  expect(await get(`${url}/board/`, ca, basic('alice', `${ALICE}x`))).toBe(401);
  expect(await get(`${url}/board/`, ca, basic('vera', VERA))).toBe(200);
  expect(await get(`${url}/board/`, ca, basic('vera', ALICE))).toBe(401);
  // Plain HTTP on the same port is not served.
  await expect(fetch(url.replace('https:', 'http:') + '/healthz')).rejects.toThrow();

  const result = await stopFleet(board);
  board = undefined;
  for (const secret of [ALICE, VERA]) expect(result.stderr).not.toContain(secret);
});

it('names the field when a user gives no password or the variable is unset', async () => {
  const config = join(dir, 'bad.yaml');
  await writeFile(config, JSON.stringify({ board: { auth: { users: [{ name: 'bob', passwordEnv: 'NOT_SET_ANYWHERE_E2E' }] } } }));
  const unset = await runCli(['board', '--config', config], {});
  expect(unset.code).toBe(2);
  expect(unset.stderr).toContain('board.auth.users[0].passwordEnv: environment variable NOT_SET_ANYWHERE_E2E is not set');
  await writeFile(config, JSON.stringify({ board: { auth: { users: [{ name: 'bob', password: 'long-enough-1', passwordEnv: 'X' }] } } }));
  const both = await runCli(['board', '--config', config], {});
  expect(both.code).toBe(2);
  expect(both.stderr).toContain('board.auth.users.0.passwordEnv: give exactly one of password, passwordHash, passwordEnv, passwordFile');
});
