/**
 * The repository's own audit trail end to end, through the built CLI, on a folder repository and
 * on the test S3 server: forget, prune and key add/remove each leave one entry with the OS user
 * and host, the action and the outcome (a refused key removal too); `snapfleet audit --repo`
 * lists and filters them; no entry, and no stored object, holds a password or key material;
 * prune and verify leave the entries alone. With REDIS_URL the same entries reach the fleet's
 * audit log. A repository whose trail cannot be written still lets the command succeed.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBlobStore } from '@snapfleet/providers';
import { createImage, describeRun, makeTempDir, mutateImage, parseJson, removeDir, runCli, type CliEnv } from '../support/cli.js';
import { createRepoTarget, listObjects, type RepoTarget, type StoreKind } from '../support/gc.js';
import { deletePrefix, uniquePrefix } from '../support/fleet.js';

const PASSWORD = 'repo-audit-pw-Z3!';
const NEW_PASSWORD = 'repo-audit-second-pw-K8?';
const REDIS_URL = 'redis://127.0.0.1:6379';

interface Entry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  details?: Record<string, string | number | boolean>;
}

let dir: string;
const prefixes: string[] = [];

beforeAll(async () => {
  dir = await makeTempDir('repo-audit');
});
afterAll(async () => {
  for (const p of prefixes) await deletePrefix(p);
  await removeDir(dir);
});

async function ok(args: string[], env: CliEnv): Promise<string> {
  const r = await runCli(args, env);
  expect(r.code, describeRun(r)).toBe(0);
  return r.stdout;
}

async function repoAudit(target: RepoTarget, env: CliEnv, ...args: string[]): Promise<Entry[]> {
  const r = await runCli(['audit', '--repo', target.repoUrl, '--json', ...args], env);
  expect(r.code, describeRun(r)).toBe(0);
  return parseJson<Entry[]>(r);
}

/** Everything a secret could leak into: the listing, and every object the repository holds outside its packs. */
async function expectNoSecrets(target: RepoTarget, listed: unknown, secrets: string[]): Promise<void> {
  const store = await openBlobStore(target.repoUrl, target.storeEnv);
  const keyMaterial: string[] = [];
  for (const { key } of await listObjects(target, 'keys/')) {
    const file = JSON.parse(Buffer.from(await store.get(key)).toString()) as { salt: string; data: string };
    keyMaterial.push(file.salt, file.data);
  }
  const text = JSON.stringify(listed);
  for (const s of [...secrets, ...keyMaterial]) expect(text).not.toContain(s);
  for (const { key } of await listObjects(target, 'audit/')) {
    const raw = Buffer.from(await store.get(key)).toString('latin1');
    for (const s of secrets) expect(raw).not.toContain(s);
  }
}

describe.each<StoreKind>(['folder', 's3'])('repository audit trail (%s)', (kind) => {
  let target: RepoTarget;
  let env: CliEnv;
  let image: string;

  beforeAll(async () => {
    target = await createRepoTarget(kind, join(dir, kind), PASSWORD);
    env = { ...target.env, USER: 'olga' };
    image = join(dir, `${kind}.img`);
    await createImage(image, 4, 11);
    for (let i = 0; i < 3; i++) {
      if (i > 0) await mutateImage(image, 0.3, 20 + i);
      await ok(['archive', image, '--volume-id', 'vol-a', '--json', '-q'], env);
    }
  });

  it('records forget, prune and key changes with actor, action and outcome; lists them; holds no secret', async () => {
    await ok(['forget', '--volume-id', 'vol-a', '--keep-last', '1', '--dry-run', '--json'], env);
    await ok(['forget', '--volume-id', 'vol-a', '--keep-last', '1', '--json'], env);
    await ok(['prune', '--json', '-q'], env);
    const newPasswordFile = join(dir, `${kind}-new-pw`);
    await writeFile(newPasswordFile, NEW_PASSWORD + '\n', { mode: 0o600 });
    const { added } = JSON.parse(await ok(['key', 'add', '--json', '--new-password-file', newPasswordFile], env)) as { added: string };
    const refused = await runCli(['key', 'remove', '0123abcd'], env);
    expect(refused.code, describeRun(refused)).not.toBe(0);
    await ok(['key', 'remove', added.slice(0, 12), '--json'], env);

    const entries = await repoAudit(target, env);
    // The dry run changed nothing and is not recorded.
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([
      ['forget', 'ok'],
      ['prune', 'ok'],
      ['key-add', 'ok'],
      ['key-remove', 'refused'],
      ['key-remove', 'ok'],
    ]);
    const role = { forget: 'forget', prune: 'prune', 'key-add': 'key add', 'key-remove': 'key remove' } as Record<string, string>;
    for (const e of entries) {
      expect(e.actor).toMatch(new RegExp(`^olga@\\S+ \\(${role[e.action]}\\)$`));
      expect(e.target).toBe(kind === 'folder' ? target.repoUrl : target.repoUrl.replace(/\/$/, ''));
      expect(e.id).toMatch(/^audit\/\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{32}$/);
    }
    expect(entries[0]!.details).toEqual({ volumeId: 'vol-a', removed: 2 });
    expect(entries[1]!.details).toMatchObject({ snapshots: 1, deletedPacks: expect.any(Number), freedBytes: expect.any(Number) });
    expect(entries[2]!.details).toEqual({ keyId: added });
    expect(entries[3]!.details).toEqual({ keyId: '0123abcd', error: 'NotFoundError' });
    expect(entries[4]!.details).toEqual({ keyId: added });

    // Filters, as the fleet's log has them; text lines as it prints them.
    expect((await repoAudit(target, env, '--action', 'key-remove')).map((e) => e.outcome)).toEqual(['refused', 'ok']);
    expect((await repoAudit(target, env, '--limit', '2')).map((e) => e.action)).toEqual(['key-remove', 'key-remove']);
    expect((await repoAudit(target, env, '--since', entries[2]!.at)).map((e) => e.action)).toEqual(['key-add', 'key-remove', 'key-remove']);
    const text = await ok(['audit', '--repo', target.repoUrl, '--limit', '1'], env);
    expect(text).toMatch(/^\S+Z {2}ok {6}key-remove {4}\S+ {2}by olga@\S+ \(key remove\) keyId=[0-9a-f]{64}\n$/);

    // A wrong password reads nothing.
    const wrong = await runCli(['audit', '--repo', target.repoUrl, '--json'], { ...env, SNAPFLEET_PASSWORD: 'not-the-password' });
    expect(wrong.code).toBe(12);

    await expectNoSecrets(target, entries, [PASSWORD, NEW_PASSWORD]);
  });

  it('prune and verify leave the entries alone and do not report them', async () => {
    const before = await listObjects(target, 'audit/');
    expect(before.length).toBeGreaterThan(0);
    // A second prune deletes what the first condemned.
    await ok(['prune', '--json', '-q'], { ...env, USER: 'petra' });
    const verify = await runCli(['verify', '--json'], env);
    expect(verify.code, describeRun(verify)).toBe(0);
    const after = await listObjects(target, 'audit/');
    expect(after.filter((o) => before.some((b) => b.key === o.key))).toEqual(before);
    expect(after).toHaveLength(before.length + 1);
    const newest = (await repoAudit(target, env, '--limit', '1'))[0]!;
    expect(newest).toMatchObject({ action: 'prune', outcome: 'ok', actor: expect.stringMatching(/^petra@/) });
  });

  it("with REDIS_URL, the same entries reach the fleet's audit log", async () => {
    const prefix = uniquePrefix(`repo-audit-${kind}`);
    prefixes.push(prefix);
    const fleetEnv = { ...env, REDIS_URL };
    await ok(['unlock', '--prefix', prefix], fleetEnv);
    const config = join(dir, `${kind}-fleet.json`);
    await writeFile(config, JSON.stringify({ fleet: { prefix }, repositories: {}, policies: [] }));
    await ok(['maintenance', '--no-locality', '--config', config, '-q'], env);
    const fleet = JSON.parse(await ok(['audit', '--config', config, '--json'], { ...env, REDIS_URL })) as Entry[];
    const repo = await repoAudit(target, env, '--limit', '2');
    expect(fleet.map((e) => [e.action, e.outcome, e.actor, e.at, e.target])).toEqual(repo.map((e) => [e.action, e.outcome, e.actor, e.at, e.target]));
    expect(fleet.map((e) => e.action)).toEqual(['unlock', 'maintenance']);
    expect(fleet[0]!.details).toEqual(repo[0]!.details);
    await expectNoSecrets(target, fleet, [PASSWORD, NEW_PASSWORD]);
  });
});

it('a repository whose trail cannot be written still lets the command succeed, and says so', async () => {
  const target = await createRepoTarget('folder', join(dir, 'blocked'), PASSWORD);
  // A file where the audit folder would be: every put under audit/ fails.
  await writeFile(join(target.repoUrl, 'audit'), 'in the way');
  const r = await runCli(['unlock'], target.env);
  expect(r.code, describeRun(r)).toBe(0);
  expect(r.stderr).toMatch(/could not record the audit entry in the repository \(unlock\)/);
  // The fleet's log unreachable: the same.
  await rm(join(target.repoUrl, 'audit'));
  const down = await runCli(['unlock'], { ...target.env, REDIS_URL: 'redis://127.0.0.1:1' });
  expect(down.code, describeRun(down)).toBe(0);
  expect(down.stderr).toMatch(/could not record the audit entry/);
  expect((await readFile(join(target.repoUrl, 'config'))).length).toBeGreaterThan(0);
  const listed = JSON.parse(await ok(['audit', '--repo', target.repoUrl, '--json'], target.env)) as Entry[];
  expect(listed.map((e) => e.action)).toEqual(['unlock']);
});
