import { describe, expect, it } from 'vitest';
import { CorruptDataError, InvalidInputError, NotFoundError, RepositoryLockedError, WrongPasswordError } from '../errors.js';
import { MemoryBlobStore } from '../testing/index.js';
import { KEYS_PREFIX } from '../format/layout.js';
import { collect } from '../content/map-limit.js';
import type { Clock } from '../ports/clock.js';
import { addKey, changePassword, listKeys, removeKey } from './key-files.js';
import { acquireExclusiveLease } from './leases.js';
import { initRepository, openRepository } from './repository-open.js';

const clock: Clock = { now: () => new Date('2026-03-01T00:00:00Z') };
const ORIGIN = { created: '2026-03-01T00:00:00.000Z', hostname: 'ops-1', username: 'sre' };

async function repository() {
  const store = new MemoryBlobStore();
  await initRepository(store, { encrypted: true, password: 'first-pw', keyOrigin: ORIGIN });
  return store;
}

const opens = async (store: MemoryBlobStore, password: string) => (await openRepository(store, { password })).keyFileId;
const keyFiles = async (store: MemoryBlobStore) => (await collect(store.list(KEYS_PREFIX))).map((o) => o.key.slice(KEYS_PREFIX.length)).sort();

describe('key files', () => {
  it('adds a password beside the first: both open the same keys, the file keeps no password, and list shows who added each', async () => {
    const store = await repository();
    const first = await openRepository(store, { password: 'first-pw' });
    const added = await addKey(first, 'second-pw', { ...ORIGIN, created: '2026-03-02T00:00:00.000Z', hostname: 'ops-2' });
    const second = await openRepository(store, { password: 'second-pw' });
    expect(second.keyFileId).toBe(added);
    expect(Buffer.from(second.keys.encRaw!)).toEqual(Buffer.from(first.keys.encRaw!));
    expect(Buffer.from(second.keys.idRaw)).toEqual(Buffer.from(first.keys.idRaw));
    for (const id of await keyFiles(store)) expect(Buffer.from(await store.get(KEYS_PREFIX + id)).toString()).not.toMatch(/first-pw|second-pw/);

    const listed = await listKeys(first);
    expect(listed).toEqual([
      { id: first.keyFileId, current: true, ...ORIGIN },
      { id: added, current: false, ...ORIGIN, created: '2026-03-02T00:00:00.000Z', hostname: 'ops-2' },
    ]);
    await expect(addKey(first, '')).rejects.toMatchObject({ field: 'new-password' });
  });

  it('removes another password, never the one that opened it, and names what is wrong with a bad id', async () => {
    const store = await repository();
    const first = await openRepository(store, { password: 'first-pw' });
    const added = await addKey(first, 'second-pw');
    await expect(removeKey(first, first.keyFileId!, { clock })).rejects.toMatchObject({ field: 'key' });
    await expect(removeKey(first, 'xyz', { clock })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(removeKey(first, 'f'.repeat(64), { clock })).rejects.toBeInstanceOf(NotFoundError);
    // Two key files whose ids share a prefix no random id starts with (copies of the second).
    const copy = await store.get(KEYS_PREFIX + added);
    const twin = `${'ab'.repeat(31)}0`;
    await store.put(`${KEYS_PREFIX}${twin}1`, copy);
    await store.put(`${KEYS_PREFIX}${twin}2`, copy);
    await expect(removeKey(first, twin, { clock })).rejects.toThrow(/ambiguous \(2 keys\)/);
    expect(await removeKey(first, `${twin}1`, { clock })).toBe(`${twin}1`);
    expect(await removeKey(first, twin, { clock })).toBe(`${twin}2`);

    expect(await removeKey(first, added.slice(0, 8), { clock })).toBe(added);
    await expect(openRepository(store, { password: 'second-pw' })).rejects.toBeInstanceOf(WrongPasswordError);
    expect(await opens(store, 'first-pw')).toBe(first.keyFileId);
    expect(await keyFiles(store)).toEqual([first.keyFileId]);
  });

  it("two holders of different passwords cannot remove each other's keys: one key always stays", async () => {
    const store = await repository();
    const a = await openRepository(store, { password: 'first-pw' });
    await addKey(a, 'second-pw');
    const b = await openRepository(store, { password: 'second-pw' });
    await removeKey(a, b.keyFileId!, { clock });
    await expect(removeKey(b, a.keyFileId!, { clock })).rejects.toThrow(/removed .* meanwhile/);
    expect(await keyFiles(store)).toEqual([a.keyFileId]);
    await expect(changePassword(b, 'third-pw', {}, { clock })).rejects.toBeInstanceOf(NotFoundError);
    expect(await keyFiles(store)).toEqual([a.keyFileId]);
  });

  it('changes the password: the new one opens, the old one no longer does', async () => {
    const store = await repository();
    const repo = await openRepository(store, { password: 'first-pw' });
    const old = repo.keyFileId;
    const id = await changePassword(repo, 'new-pw', ORIGIN, { clock });
    expect(repo.keyFileId).toBe(id);
    expect(await keyFiles(store)).toEqual([id]);
    expect(await opens(store, 'new-pw')).toBe(id);
    expect(id).not.toBe(old);
    await expect(openRepository(store, { password: 'first-pw' })).rejects.toBeInstanceOf(WrongPasswordError);
  });

  it('waits for no one: a prune holding the repository makes remove and passwd stop before they change anything', async () => {
    const store = await repository();
    const repo = await openRepository(store, { password: 'first-pw' });
    const added = await addKey(repo, 'second-pw');
    const prune = await acquireExclusiveLease(repo, clock, 'prune');
    await expect(removeKey(repo, added, { clock })).rejects.toBeInstanceOf(RepositoryLockedError);
    await expect(changePassword(repo, 'third-pw', {}, { clock })).rejects.toBeInstanceOf(RepositoryLockedError);
    expect(await keyFiles(store)).toEqual([repo.keyFileId, added].sort());
    await prune.release();
    expect(await removeKey(repo, added, { clock })).toBe(added);
  });

  it('an unencrypted repository has no passwords to manage', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    await expect(listKeys(repo)).rejects.toMatchObject({ field: 'repo' });
    await expect(addKey(repo, 'pw')).rejects.toMatchObject({ field: 'repo' });
  });
});

describe('damaged key files', () => {
  const edit = async (store: MemoryBlobStore, id: string, change: (file: Record<string, unknown>) => void) => {
    const file = JSON.parse(Buffer.from(await store.get(KEYS_PREFIX + id)).toString()) as Record<string, unknown>;
    change(file);
    await store.put(KEYS_PREFIX + id, Buffer.from(JSON.stringify(file)));
  };
  const flip = (b64: string) => {
    const bytes = Buffer.from(b64, 'base64');
    bytes[3] = bytes[3]! ^ 0x10;
    return bytes.toString('base64');
  };

  it('say so, naming the file and what is wrong, instead of "wrong password"', async () => {
    const store = await repository();
    const [id] = await keyFiles(store);
    await edit(store, id!, (f) => (f.salt = flip(f.salt as string)));
    await expect(openRepository(store, { password: 'first-pw' })).rejects.toThrow(new RegExp(`key file keys/${id} is damaged: its checksum does not match`));
    await expect(openRepository(store, { password: 'first-pw' })).rejects.toBeInstanceOf(CorruptDataError);
    await edit(store, id!, (f) => delete f.salt);
    await expect(openRepository(store, { password: 'first-pw' })).rejects.toThrow(
      new RegExp(`key file keys/${id} is damaged: field salt is missing or not valid`),
    );
  });

  it('beside an intact key: the right password opens, a wrong one says which file was not tried', async () => {
    const store = await repository();
    const repo = await openRepository(store, { password: 'first-pw' });
    const second = await addKey(repo, 'second-pw');
    await edit(store, repo.keyFileId!, (f) => (f.n = 1 << 30));
    expect(await opens(store, 'second-pw')).toBe(second);
    const wrong = openRepository(store, { password: 'nope' });
    await expect(wrong).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(wrong).rejects.toThrow(new RegExp(`key file keys/${repo.keyFileId} is damaged.*not tried`));
  });

  it('key files written before the checksum still open', async () => {
    const store = await repository();
    const [id] = await keyFiles(store);
    await edit(store, id!, (f) => delete f.check);
    expect(await opens(store, 'first-pw')).toBe(id);
  });
});
