/**
 * The VolumeProvider conformance suite: the suite says which volumes exist (names, tags, bytes),
 * the factory makes them in the provider under test (files for the local provider, a fake EC2/EBS
 * world for AWS), and the suite checks the port's contract: discovery sorted and filtered by
 * selectors, snapshots idempotent by client token, states that reach completed, sources that read
 * the volume's bytes, listings of what was made, and idempotent deletes.
 *
 * Tags are written `key=value` so that every provider can hold them (EC2 tags are pairs).
 */
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import type { SnapshotRef, VolumeProvider } from '../ports/volume-provider.js';
import type { VolumeSource } from '../ports/volume-source.js';
import { seededBytes } from './test-data.js';

export interface ConformanceVolumeSpec {
  name: string;
  tags: string[];
  data: Uint8Array;
}

export interface VolumeProviderFixture {
  provider: VolumeProvider;
  /** The provider's ids of the suite's volumes, in the order they were given. */
  ids: string[];
  /** An id of the provider's form that names no volume. */
  missingVolumeId: string;
  /** Lets time pass between polls of a pending snapshot (a fake's clock, a sleep). */
  tick?(): Promise<void>;
  cleanup(): Promise<void>;
}

export type VolumeProviderFactory = (volumes: readonly ConformanceVolumeSpec[]) => Promise<VolumeProviderFixture>;

export interface VolumeProviderConformanceOptions {
  /** Whether the provider keeps its snapshots (EBS does; the local provider keeps none). @defaultValue true */
  keepsSnapshots?: boolean;
  /** Polls of snapshotState before the suite gives up on "completed". @defaultValue 20 */
  maxPolls?: number;
}

const KiB = 1024;
/** 1.5 MiB: several blocks for every provider's block size (64 KiB local, 512 KiB EBS). */
const VOLUME_BYTES = 1536 * KiB;

/** The suite's volumes: distinct bytes per volume, so a source of the wrong volume is caught. */
export function conformanceVolumes(): ConformanceVolumeSpec[] {
  return [
    { name: 'web-1', tags: ['role=web', 'env=prod'], data: seededBytes(VOLUME_BYTES, 1) },
    { name: 'web-2', tags: ['role=web'], data: seededBytes(VOLUME_BYTES, 2) },
    { name: 'db-1', tags: ['role=db', 'env=prod'], data: seededBytes(VOLUME_BYTES, 3) },
  ];
}

export function describeVolumeProviderConformance(name: string, factory: VolumeProviderFactory, options: VolumeProviderConformanceOptions = {}): void {
  const keeps = options.keepsSnapshots ?? true;
  const maxPolls = options.maxPolls ?? 20;
  const specs = conformanceVolumes();
  const tagsOf = (slot: string) => ['policy=conformance', `slot=${slot}`];

  const withProvider = async (test: (f: VolumeProviderFixture) => Promise<void>): Promise<void> => {
    const fixture = await factory(specs);
    try {
      await test(fixture);
    } finally {
      await fixture.cleanup();
    }
  };
  const untilCompleted = async (f: VolumeProviderFixture, ref: SnapshotRef): Promise<void> => {
    for (let poll = 0; poll < maxPolls; poll++) {
      const state = await f.provider.snapshotState(ref);
      expect(state, `state of ${ref}`).not.toBe('error');
      if (state === 'completed') return;
      await f.tick?.();
    }
    throw new Error(`snapshot ${ref} not completed after ${maxPolls} polls`);
  };

  describe(`VolumeProvider conformance: ${name}`, () => {
    it('discovers every volume, sorted by id, with names, tags and sizes', () =>
      withProvider(async (f) => {
        const found = await f.provider.discover({});
        const ids = found.map((v) => v.id);
        expect(ids).toEqual([...f.ids].sort());
        for (const [i, spec] of specs.entries()) {
          const v = found.find((x) => x.id === f.ids[i])!;
          expect(v.name).toBe(spec.name);
          expect(v.tags).toEqual(expect.arrayContaining(spec.tags));
          expect(v.sizeBytes).toBeGreaterThanOrEqual(spec.data.length);
        }
      }));

    it('honours selectors: tags, ids, name patterns, all criteria together', () =>
      withProvider(async (f) => {
        const ids = async (selector: Parameters<VolumeProvider['discover']>[0]) => (await f.provider.discover(selector)).map((v) => v.id);
        const [web1, web2, db1] = f.ids as [string, string, string];
        expect(await ids({ tags: ['role=web'] })).toEqual([web1, web2].sort());
        expect(await ids({ tags: ['role=web', 'env=prod'] })).toEqual([web1]);
        expect(await ids({ ids: [db1] })).toEqual([db1]);
        expect(await ids({ namePattern: 'web-*' })).toEqual([web1, web2].sort());
        expect(await ids({ namePattern: 'web-*', tags: ['env=prod'] })).toEqual([web1]);
        expect(await ids({ tags: ['role=cache'] })).toEqual([]);
      }));

    it('createSnapshot is idempotent by client token', () =>
      withProvider(async (f) => {
        const volume = f.ids[0]!;
        const first = await f.provider.createSnapshot(volume, tagsOf('20260301T000000Z'), 'token-a');
        const again = await f.provider.createSnapshot(volume, tagsOf('20260301T000000Z'), 'token-a');
        expect(again).toBe(first);
        const other = await f.provider.createSnapshot(volume, tagsOf('20260301T010000Z'), 'token-b');
        expect(other).not.toBe(first);
        if (keeps) expect((await f.provider.listSnapshots(volume, ['policy=conformance'])).map((s) => s.ref).sort()).toEqual([first, other].sort());
      }));

    it('snapshotState reaches completed', () =>
      withProvider(async (f) => {
        const ref = await f.provider.createSnapshot(f.ids[1]!, tagsOf('20260301T000000Z'), 'token-state');
        await untilCompleted(f, ref);
        expect(await f.provider.snapshotState(ref)).toBe('completed');
      }));

    it("openSource reads the volume's bytes at the snapshot", () =>
      withProvider(async (f) => {
        const index = 2;
        const ref = await f.provider.createSnapshot(f.ids[index]!, tagsOf('20260301T000000Z'), 'token-read');
        await untilCompleted(f, ref);
        const source = await f.provider.openSource(f.ids[index]!, ref);
        try {
          await expectBytes(source, specs[index]!.data);
        } finally {
          await source.close();
        }
      }));

    it('listSnapshots lists what was made, oldest first, filtered by tags', () =>
      withProvider(async (f) => {
        const volume = f.ids[0]!;
        const a = await f.provider.createSnapshot(volume, tagsOf('20260301T000000Z'), 'token-list-a');
        const b = await f.provider.createSnapshot(volume, tagsOf('20260301T010000Z'), 'token-list-b');
        await f.provider.createSnapshot(f.ids[1]!, tagsOf('20260301T000000Z'), 'token-list-other');
        const listed = await f.provider.listSnapshots(volume, ['policy=conformance']);
        if (!keeps) {
          expect(listed).toEqual([]);
          return;
        }
        expect(listed.map((s) => s.ref)).toEqual([a, b]);
        expect(listed[0]!.volumeId).toBe(volume);
        expect(listed[0]!.tags).toEqual(expect.arrayContaining(tagsOf('20260301T000000Z')));
        expect(listed[0]!.time.getTime()).toBeLessThanOrEqual(listed[1]!.time.getTime());
        expect((await f.provider.listSnapshots(volume, ['slot=20260301T010000Z'])).map((s) => s.ref)).toEqual([b]);
        expect(await f.provider.listSnapshots(volume, ['policy=other'])).toEqual([]);
      }));

    it('listSnapshots of a volume it does not know (deleted: its snapshots are orphans) lists, not fails', () =>
      withProvider(async (f) => {
        expect(await f.provider.listSnapshots('vol-0000000000000dead', ['policy=conformance'])).toEqual([]);
      }));

    it('deleteSnapshot is idempotent', () =>
      withProvider(async (f) => {
        const volume = f.ids[0]!;
        const ref = await f.provider.createSnapshot(volume, tagsOf('20260301T000000Z'), 'token-delete');
        await untilCompleted(f, ref);
        await f.provider.deleteSnapshot(ref);
        await f.provider.deleteSnapshot(ref);
        if (keeps) expect((await f.provider.listSnapshots(volume, ['policy=conformance'])).map((s) => s.ref)).not.toContain(ref);
      }));

    it('a missing volume is a NotFoundError', () =>
      withProvider(async (f) => {
        await expect(f.provider.createSnapshot(f.missingVolumeId, tagsOf('20260301T000000Z'), 'token-missing')).rejects.toBeInstanceOf(NotFoundError);
      }));
  });
}

/** The source holds `data` at its start; whatever follows (a volume rounded up to GiB) is zeros. */
async function expectBytes(source: VolumeSource, data: Uint8Array): Promise<void> {
  expect(source.sizeBytes).toBeGreaterThanOrEqual(data.length);
  const blocks = Math.ceil(data.length / source.blockSize);
  for (let index = 0; index < blocks; index++) {
    const block = await source.readBlock(index);
    const start = index * source.blockSize;
    const want = data.subarray(start, Math.min(start + block.length, data.length));
    expect(Buffer.from(block.subarray(0, want.length)).equals(Buffer.from(want)), `block ${index}`).toBe(true);
    expect(
      block.subarray(want.length).every((b) => b === 0),
      `block ${index} past the data`,
    ).toBe(true);
  }
}
