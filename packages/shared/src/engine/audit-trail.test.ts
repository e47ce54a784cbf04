import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, MemoryVolumeSource } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { collect } from '../content/map-limit.js';
import { decodeEnvelope, encodeEnvelope } from '../format/envelope.js';
import { AUDIT_PREFIX, type RepositoryAuditEntry } from '../format/audit-entry.js';
import type { Clock } from '../ports/clock.js';
import { appendAuditEntry, listAuditEntries } from './audit-trail.js';
import { archiveVolume } from './archive.js';
import { planForget, removeSnapshots } from './forget.js';
import { pruneRepository } from './prune.js';
import { compactIndex } from './index-compaction.js';
import { repairIndex } from './repair-index.js';
import { verifyRepository } from './verify.js';
import { initRepository, openRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';

const clock: Clock = { now: () => new Date('2026-03-01T00:00:00Z') };
const PASSWORD = 'audit-trail-pw';

const entry = (at: string, action: string, details?: RepositoryAuditEntry['details']): RepositoryAuditEntry => ({
  at,
  actor: 'olga@host-a (forget)',
  action,
  target: '/srv/repo',
  outcome: 'ok',
  ...(details ? { details } : {}),
});

const auditKeys = async (store: MemoryBlobStore) => (await collect(store.list(AUDIT_PREFIX))).map((o) => o.key).sort();

describe('repository audit trail', () => {
  for (const encrypted of [true, false]) {
    it(`round-trips entries, newest first (${encrypted ? 'encrypted' : 'unencrypted'})`, async () => {
      const store = new MemoryBlobStore();
      const repo = await initRepository(store, { encrypted, password: PASSWORD });
      await appendAuditEntry(repo, entry('2026-03-01T10:00:00.000Z', 'forget', { removed: 3, volumeId: 'vol-1' }));
      await appendAuditEntry(repo, { ...entry('2026-03-01T11:00:00.000Z', 'key-add', { keyId: 'ab'.repeat(32) }), outcome: 'refused' });
      const again = await openRepository(store, { password: PASSWORD });
      const read = await listAuditEntries(again);
      expect(read.map(({ key: _key, ...e }) => e)).toEqual([
        { ...entry('2026-03-01T11:00:00.000Z', 'key-add', { keyId: 'ab'.repeat(32) }), outcome: 'refused' },
        entry('2026-03-01T10:00:00.000Z', 'forget', { removed: 3, volumeId: 'vol-1' }),
      ]);
      expect(read[0]!.key).toMatch(/^audit\/20260301T110000\.000Z-[0-9a-f]{32}$/);
      if (encrypted) for (const key of await auditKeys(store)) expect(Buffer.from(await store.get(key)).toString('latin1')).not.toContain('olga');
    });
  }

  it('two equal entries in one millisecond are two objects', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: PASSWORD });
    const at = '2026-03-01T10:00:00.000Z';
    await appendAuditEntry(repo, entry(at, 'prune'));
    await appendAuditEntry(repo, entry(at, 'prune'));
    expect(await auditKeys(store)).toHaveLength(2);
    expect(await listAuditEntries(repo)).toHaveLength(2);
  });

  it('lists by time from the names, by action and up to a limit', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: PASSWORD });
    const actions = ['forget', 'prune', 'key-add', 'forget', 'prune', 'forget'];
    // Appended out of time order: the listing sorts by the time in the names, not by arrival.
    for (const i of [3, 0, 5, 1, 4, 2]) await appendAuditEntry(repo, entry(`2026-03-0${i + 1}T00:00:00.000Z`, actions[i]!));
    const at = async (options: Parameters<typeof listAuditEntries>[1]) =>
      (await listAuditEntries(repo, options)).map((e) => `${e.at.slice(8, 10)} ${e.action}`);
    expect(await at({})).toEqual(['06 forget', '05 prune', '04 forget', '03 key-add', '02 prune', '01 forget']);
    expect(await at({ limit: 2 })).toEqual(['06 forget', '05 prune']);
    expect(await at({ action: 'forget' })).toEqual(['06 forget', '04 forget', '01 forget']);
    expect(await at({ action: 'forget', limit: 2 })).toEqual(['06 forget', '04 forget']);
    expect(await at({ since: '2026-03-04T00:00:00Z' })).toEqual(['06 forget', '05 prune', '04 forget']);
    expect(await at({ since: '2026-03-04T00:00:00.001Z', action: 'prune' })).toEqual(['05 prune']);
  });

  it('leaves out, and reports, an entry that was altered, damaged, moved to another time, or is not JSON', async () => {
    for (const encrypted of [true, false]) {
      const store = new MemoryBlobStore();
      const repo = await initRepository(store, { encrypted, password: PASSWORD });
      const good = await appendAuditEntry(repo, entry('2026-03-01T10:00:00.000Z', 'forget'));
      const flipped = await appendAuditEntry(repo, entry('2026-03-01T11:00:00.000Z', 'prune'));
      const bytes = Buffer.from(await store.get(flipped));
      bytes[bytes.length - 3]! ^= 1;
      await store.put(flipped, bytes);
      // Rewritten with the repository's own envelope (what someone holding only the bucket, not the id key, can do without a key in an unencrypted repository).
      const edited = await appendAuditEntry(repo, entry('2026-03-01T12:00:00.000Z', 'key-remove'));
      const plaintext = decodeEnvelope(await store.get(edited), repo.keys.enc, edited)
        .toString()
        .replace('"ok"', '"failed"');
      await store.put(edited, encodeEnvelope(Buffer.from(plaintext), repo.keys.enc));
      // A genuine entry copied under a name of another time.
      const moved = good.replace('20260301T100000.000Z', '20260302T100000.000Z');
      await store.put(moved, await store.get(good));
      await store.put(`${AUDIT_PREFIX}20260303T100000.000Z-${'0'.repeat(32)}`, Buffer.from('garbage'));
      await store.put(`${AUDIT_PREFIX}README`, Buffer.from('not an entry name: ignored'));

      const damaged: string[] = [];
      const read = await listAuditEntries(repo, { onDamaged: (key) => damaged.push(key) });
      expect(read.map((e) => e.key)).toEqual([good]);
      expect(damaged.sort()).toEqual([flipped, edited, moved, `${AUDIT_PREFIX}20260303T100000.000Z-${'0'.repeat(32)}`].sort());
    }
  });

  it('refuses an entry that would not fit an object or names no actor', async () => {
    const repo = await initRepository(new MemoryBlobStore(), { encrypted: true, password: PASSWORD });
    await expect(appendAuditEntry(repo, { ...entry('2026-03-01T10:00:00.000Z', 'forget'), actor: '' })).rejects.toThrow(/actor/);
    await expect(appendAuditEntry(repo, entry('2026-03-01T10:00:00.000Z', 'Forget!'))).rejects.toThrow(/action/);
  });

  it('prune, maintenance, repair index and verify leave the entries alone and do not report them', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: PASSWORD });
    const pool = createInlineCodecPool(repo.keys);
    const volume = makeVolume(1024 * 1024, 7);
    for (let d = 0; d < 3; d++) {
      if (d > 0) mutate(volume, 200, d);
      const parent = (await repo.listVolumeSnapshots('vol')).at(-1);
      await archiveVolume(repo, pool, {
        volumeId: 'vol',
        source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
        clock,
        time: new Date(Date.UTC(2026, 0, 1 + d)),
        ...(parent ? { parent } : {}),
      });
    }
    await appendAuditEntry(repo, entry('2026-03-01T10:00:00.000Z', 'key-add'));
    const plans = planForget(await repo.listSnapshots(), { keepLast: 1 }, clock.now());
    await removeSnapshots(
      repo,
      plans.flatMap((p) => p.remove),
    );
    await appendAuditEntry(repo, entry('2026-03-01T10:00:01.000Z', 'forget', { removed: 2 }));
    const before = await auditKeys(store);

    const pruned = await pruneRepository(repo, pool, { clock });
    expect(pruned.deletedPacks).toBeGreaterThan(0);
    await compactIndex(repo, { clock });
    await repairIndex(repo, { clock });
    const report = await verifyRepository(repo, pool);
    expect(report.problems).toEqual([]);
    expect(await auditKeys(store)).toEqual(before);
    expect((await listAuditEntries(repo)).map((e) => e.action)).toEqual(['forget', 'key-add']);
  });
});
