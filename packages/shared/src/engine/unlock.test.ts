import { describe, expect, it } from 'vitest';
import { PermanentError } from '../errors.js';
import { MemoryBlobStore } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { LOCKS_PREFIX } from '../format/layout.js';
import { collect } from '../content/map-limit.js';
import type { Clock } from '../ports/clock.js';
import { acquireLease, LEASE_TTL_MS, CLOCK_SKEW_MS } from './leases.js';
import { pruneRepository } from './prune.js';
import { unlockRepository } from './unlock.js';
import { initRepository } from './repository-open.js';

const now = new Date('2026-03-01T12:00:00Z');
const clock: Clock = { now: () => now };
const longAgo: Clock = { now: () => new Date(now.getTime() - LEASE_TTL_MS - CLOCK_SKEW_MS - 1000) };
const here = 'boot-1/pid:[1]';
const identity = { self: { pid: 100, pidSpace: here }, isGone: (h: { pid: number; pidSpace: string }) => h.pidSpace === here && h.pid === 200 };
const locks = async (store: MemoryBlobStore) => (await collect(store.list(LOCKS_PREFIX))).map((o) => o.key).sort();

describe('unlock', () => {
  it('removes the leases of dead holders and keeps live ones and objects it cannot read; --remove-all removes everything', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    const live = await acquireLease(repo, clock, 'archive', 'host-a', { pid: 300, pidSpace: here });
    const killed = await acquireLease(repo, clock, 'archive', 'host-a', { pid: 200, pidSpace: here });
    const expired = await acquireLease(repo, longAgo, 'prune', 'host-b');
    await store.put(`${LOCKS_PREFIX}junk`, Buffer.from('not a lease at all'));

    const report = await unlockRepository(repo, { clock, identity });
    expect(report.removed.map((l) => [l.key, l.state]).sort()).toEqual(
      [
        [`${LOCKS_PREFIX}${expired.id}`, 'expired'],
        [`${LOCKS_PREFIX}${killed.id}`, 'holder-gone'],
      ].sort(),
    );
    expect(report.kept.map((l) => [l.key, l.state]).sort()).toEqual(
      [
        [`${LOCKS_PREFIX}${live.id}`, 'live'],
        [`${LOCKS_PREFIX}junk`, 'unreadable'],
      ].sort(),
    );
    expect(report.kept.find((l) => l.state === 'live')).toMatchObject({ kind: 'archive', hostname: 'host-a' });
    expect(await locks(store)).toEqual([`${LOCKS_PREFIX}${live.id}`, `${LOCKS_PREFIX}junk`].sort());

    const all = await unlockRepository(repo, { clock, all: true });
    expect(all.removed).toHaveLength(2);
    expect(await locks(store)).toEqual([]);
    for (const l of [live, killed, expired]) await l.release().catch(() => undefined);
  });

  it('a lease object of a newer release stops prune with a message naming it and the way out', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    // Envelope version 103: what junk starting with the byte "g" reads as.
    await store.put(`${LOCKS_PREFIX}odd`, Buffer.from('g'.repeat(64)));
    const pool = createInlineCodecPool(repo.keys);
    const stopped = pruneRepository(repo, pool, { clock });
    await expect(stopped).rejects.toBeInstanceOf(PermanentError);
    await expect(stopped).rejects.toThrow(
      /lease locks\/odd cannot be read \(.*newer.*\); if no newer snapfleet wrote it, remove it with `snapfleet unlock --remove-all`/,
    );
    expect((await unlockRepository(repo, { clock })).kept).toEqual([{ key: `${LOCKS_PREFIX}odd`, state: 'unreadable' }]);
    await unlockRepository(repo, { clock, all: true });
    expect((await pruneRepository(repo, pool, { clock })).snapshots).toBe(0);
  });
});
