/**
 * `snapfleet key add | remove | passwd` through the CLI, and the same commands killed with
 * SIGKILL at random points: some password still opens the repository, and every password that
 * opened it before a command and was not that command's to remove still does
 * (packages/shared/src/engine/key-files.ts). A killed command's prune lease is taken over at
 * once by the next command on this machine (its holder is gone), so the rounds never wait.
 *
 * SNAPFLEET_KEY_KILL_SEED replays a run (the seed is printed).
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openRepository, WrongPasswordError } from '@snapfleet/shared';
import { FolderBlobStore } from '@snapfleet/providers';
import { describeRun, makeTempDir, parseJson, removeDir, runCli, snapfleetStderr, spawnCli, type CliEnv } from '../support/cli.js';
import { createRepoTarget, listObjects, randomInt, seededRandom, type RepoTarget } from '../support/gc.js';

const FIRST_PASSWORD = 'key-kill-first-pw-Q7!';
const ROUNDS = 10;
const SEED = Number(process.env.SNAPFLEET_KEY_KILL_SEED) || 20261205;

let dir: string;
let target: RepoTarget;

beforeAll(async () => {
  dir = await makeTempDir('key-kill');
  target = await createRepoTarget('folder', dir, FIRST_PASSWORD);
});

afterAll(async () => {
  await removeDir(dir);
});

/** The key file a password opens, or undefined when it opens none. */
async function keyOf(password: string): Promise<string | undefined> {
  try {
    return (await openRepository(new FolderBlobStore(target.repoUrl), { password })).keyFileId;
  } catch (err) {
    if (err instanceof WrongPasswordError) return undefined;
    throw err;
  }
}

async function withNewPassword(name: string, password: string): Promise<string[]> {
  const file = join(dir, name);
  await writeFile(file, password + '\n', { mode: 0o600 });
  return ['--new-password-file', file];
}

/** What keys/ and locks/ hold now. */
async function folders(): Promise<string> {
  const names = await Promise.all(['keys', 'locks'].map((f) => readdir(join(target.repoUrl, f)).catch(() => [] as string[])));
  return names.map((n) => n.sort().join(',')).join('|');
}

/** Polls keys/ and locks/ until they differ from `before`, or the command ends. */
async function untilChanged(before: string, done: Promise<unknown>): Promise<void> {
  let ended = false;
  void done.then(() => (ended = true));
  while (!ended && (await folders()) === before) await sleep(1);
}

const envFor = (password: string): CliEnv => ({ ...target.env, SNAPFLEET_PASSWORD: password });

interface KeyJson {
  id: string;
  current: boolean;
  created?: string;
  hostname?: string;
}

it('adds, lists, refuses to remove the key in use, removes another, and changes a password', async () => {
  const args = await withNewPassword('cli-second', 'cli-second-pw');
  const add = await runCli(['key', 'add', '--json', ...args], target.env);
  expect(add.code, describeRun(add)).toBe(0);
  const { added } = parseJson<{ added: string }>(add);
  expect(add.stdout + add.stderr).not.toContain('cli-second-pw');

  const list = await runCli(['key', 'list', '--json'], target.env);
  expect(list.code, describeRun(list)).toBe(0);
  const keys = parseJson<KeyJson[]>(list);
  expect(keys).toHaveLength(2);
  const own = keys.find((k) => k.current)!;
  expect(keys.find((k) => !k.current)).toMatchObject({ id: added });
  for (const k of keys) expect(k.created, 'init and key add record when').toMatch(/^\d{4}-\d\d-\d\dT/);

  const refused = await runCli(['key', 'remove', own.id.slice(0, 8)], target.env);
  expect(refused.code, describeRun(refused)).toBe(2);
  expect(snapfleetStderr(refused.stderr)).toMatch(/is the one this password opened.*\[key\]/);
  const missing = await runCli(['key', 'add'], target.env);
  expect(missing.code, describeRun(missing)).toBe(2);
  expect(snapfleetStderr(missing.stderr)).toMatch(/no new password given.*\[new-password-file\]/);

  // The second password removes the first; the first no longer opens.
  const removed = await runCli(['key', 'remove', '--json', own.id.slice(0, 12)], envFor('cli-second-pw'));
  expect(removed.code, describeRun(removed)).toBe(0);
  expect(parseJson<{ removed: string }>(removed).removed).toBe(own.id);
  expect(await keyOf(FIRST_PASSWORD)).toBeUndefined();
  const wrong = await runCli(['snapshots'], target.env);
  expect(wrong.code, describeRun(wrong)).toBe(12);

  // passwd puts the first password back in place of the second.
  const passwd = await runCli(['key', 'passwd', ...(await withNewPassword('cli-first', FIRST_PASSWORD))], envFor('cli-second-pw'));
  expect(passwd.code, describeRun(passwd)).toBe(0);
  expect(await keyOf('cli-second-pw')).toBeUndefined();
  expect(await keyOf(FIRST_PASSWORD)).toBeDefined();
  expect((await listObjects(target, 'keys/')).length).toBe(1);
});

it(`${ROUNDS} rounds of key commands killed at random points: every password not being removed still opens`, async () => {
  const rng = seededRandom(SEED);
  const log: string[] = [];
  /** Passwords known to open the repository. */
  const valid = new Set<string>([FIRST_PASSWORD]);
  expect(await keyOf(FIRST_PASSWORD)).toBeDefined();
  // How long an unkilled command takes here: kills are spread over it.
  const started = Date.now();
  const timed = await runCli(['key', 'add', ...(await withNewPassword('timed', 'timed-pw'))], envFor(FIRST_PASSWORD));
  expect(timed.code, describeRun(timed)).toBe(0);
  const fullMs = Date.now() - started;
  valid.add('timed-pw');
  let killed = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const passwords = [...valid];
    const opener = passwords[randomInt(rng, 0, passwords.length - 1)]!;
    const others = passwords.filter((p) => p !== opener);
    const fresh = `round-${round}-pw`;
    const kind = others.length > 0 ? (['add', 'remove', 'passwd'] as const)[randomInt(rng, 0, 2)]! : (['add', 'passwd'] as const)[randomInt(rng, 0, 1)]!;
    let args: string[];
    let victim: string | undefined;
    if (kind === 'remove') {
      victim = others[randomInt(rng, 0, others.length - 1)]!;
      args = ['key', 'remove', (await keyOf(victim))!];
    } else {
      args = ['key', kind, ...(await withNewPassword(`round-${round}`, fresh))];
    }
    // Even rounds: a random time over an unkilled run. Odd ones: a few ms after its first write
    // under keys/ or locks/ (a lease, a new key file), so that kills land between its steps.
    const before = await folders();
    const run = spawnCli(args, envFor(opener));
    const afterWrite = round % 2 === 1;
    const delay = afterWrite ? randomInt(rng, 0, 8) : randomInt(rng, Math.round(fullMs * 0.5), Math.round(fullMs * 1.2));
    if (afterWrite) await untilChanged(before, run.done);
    await sleep(delay);
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    const result = await run.done;
    if (result.signal === 'SIGKILL') killed++;
    else expect(result.code, describeRun(result)).toBe(0);
    const when = afterWrite ? `${delay} ms after its first write` : `after ${delay} ms`;
    log.push(`${kind}: ${result.signal === 'SIGKILL' ? `killed ${when}` : `completed (kill planned ${when})`}`);

    // Every password valid before, other than the one this command removes (remove's victim,
    // passwd's opener), still opens; of those two, passwd leaves the old or the new one working.
    const spared = passwords.filter((p) => p !== victim && !(kind === 'passwd' && p === opener));
    for (const p of spared) expect(await keyOf(p), `round ${round} (${log.at(-1)}): a password not removed`).toBeDefined();
    const next = new Set(spared);
    for (const p of [...(victim ? [victim] : []), ...(kind === 'passwd' ? [opener] : []), ...(kind === 'remove' ? [] : [fresh])]) {
      if (await keyOf(p)) next.add(p);
    }
    if (kind === 'passwd') expect(next.has(opener) || next.has(fresh), `round ${round}: passwd left neither password`).toBe(true);
    const after =
      kind === 'remove'
        ? next.has(victim!)
          ? 'victim still opens'
          : 'victim removed'
        : kind === 'add'
          ? next.has(fresh)
            ? 'new one opens'
            : 'new one not stored'
          : `${next.has(opener) ? 'old' : ''}${next.has(opener) && next.has(fresh) ? ' and ' : ''}${next.has(fresh) ? 'new' : ''} open${next.has(opener) && next.has(fresh) ? ' (between its two steps)' : 's'}`;
    log[log.length - 1] += `: ${after}`;
    if (result.signal !== 'SIGKILL' && kind !== 'remove') expect(next.has(fresh), `round ${round}: a completed ${kind}`).toBe(true);
    if (result.signal !== 'SIGKILL' && victim) expect(next.has(victim), `round ${round}: a completed remove`).toBe(false);
    expect(next.size, `round ${round}: some password opens`).toBeGreaterThan(0);
    valid.clear();
    for (const p of next) valid.add(p);
  }
  console.log(`[key-kill] seed ${SEED}: ${killed} of ${ROUNDS} killed, ${valid.size} password(s) open at the end\n  ${log.join('\n  ')}`);
  expect(killed, 'some kills must land').toBeGreaterThan(0);
  // The repository still works with what is left: a command opens it and lists its keys.
  const list = await runCli(['key', 'list', '--json'], envFor([...valid][0]!));
  expect(list.code, describeRun(list)).toBe(0);
  expect(parseJson<KeyJson[]>(list).length).toBeGreaterThanOrEqual(valid.size);
});
