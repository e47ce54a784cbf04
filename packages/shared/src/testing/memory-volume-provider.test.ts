import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import { MemoryVolumeProvider } from './memory-volume-provider.js';
import { describeVolumeProviderConformance } from './volume-provider-conformance.js';

describeVolumeProviderConformance('MemoryVolumeProvider', async (specs) => {
  const ids = specs.map((_, i) => `vol-${i}`);
  const volumes = Object.fromEntries(specs.map((s, i) => [ids[i]!, { data: s.data, name: s.name, tags: s.tags }]));
  return { provider: new MemoryVolumeProvider(volumes, { clock: { now: () => new Date() } }), ids, missingVolumeId: 'vol-missing', cleanup: async () => {} };
});

describe('MemoryVolumeProvider', () => {
  const clock = { now: () => new Date('2024-05-01T00:00:00Z') };

  it('creates one snapshot per client token and keeps the bytes of its point in time', async () => {
    const data = new Uint8Array(128 * 1024).fill(7);
    const p = new MemoryVolumeProvider({ v: { data, tags: ['db'] } }, { clock, blockSize: 64 * 1024 });
    const ref = await p.createSnapshot('v', ['policy=a', 'slot=x'], 'job-1');
    expect(await p.createSnapshot('v', ['policy=a', 'slot=x'], 'job-1')).toBe(ref);
    data.fill(9); // the volume changes after the snapshot
    const source = await p.openSource('v', ref);
    expect((await source.readBlock(0))[0]).toBe(7);
    expect(await p.listSnapshots('v', ['policy=a'])).toEqual([{ ref, volumeId: 'v', time: clock.now(), tags: ['policy=a', 'slot=x'], state: 'completed' }]);
    expect(await p.discover({ tags: ['db'] })).toEqual([{ id: 'v', name: 'v', tags: ['db'], sizeBytes: data.length }]);
  });

  it('lists by tags oldest first, and deletes idempotently', async () => {
    const p = new MemoryVolumeProvider({ v: { data: new Uint8Array(1024) } }, { clock });
    const late = p.addSnapshot('v', new Date('2024-02-01T00:00:00Z'), ['policy=a']);
    const early = p.addSnapshot('v', new Date('2024-01-01T00:00:00Z'), ['policy=a'], 'pending');
    p.addSnapshot('v', new Date('2024-01-15T00:00:00Z'), ['policy=b']);
    expect((await p.listSnapshots('v', ['policy=a'])).map((s) => [s.ref, s.state])).toEqual([
      [early, 'pending'],
      [late, 'completed'],
    ]);
    p.setState(early, 'completed');
    expect(await p.snapshotState(early)).toBe('completed');
    await p.deleteSnapshot(early);
    await p.deleteSnapshot(early);
    expect(p.deleted).toEqual([early]);
    await expect(p.snapshotState(early)).rejects.toBeInstanceOf(NotFoundError);
  });
});
