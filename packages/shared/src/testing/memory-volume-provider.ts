/**
 * MemoryVolumeProvider: a VolumeProvider over in-memory volumes that, unlike the local provider,
 * keeps its snapshots (as EBS does): each snapshot copies the volume's bytes at its time, lists
 * with its tags and state, and stays until deleted. Tests drive the fleet's snapshot tier with it
 * (archive selection, snapshot-tier retention) and seed histories with `addSnapshot`.
 */
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { DiscoveredVolume, ProviderSnapshot, SnapshotRef, SnapshotState, VolumeProvider, VolumeSelectorSpec } from '../ports/volume-provider.js';
import type { VolumeSource } from '../ports/volume-source.js';
import { selectorMatches } from '../config/volume-selector.js';
import { MemoryVolumeSource } from './memory-volume-source.js';

export interface MemoryVolume {
  data: Uint8Array;
  name?: string;
  tags?: readonly string[];
}

export interface MemoryVolumeProviderOptions {
  clock: Clock;
  /** @defaultValue 64 KiB (MemoryVolumeSource's) */
  blockSize?: number;
  /** The state a new snapshot starts in; `setState` moves it on. @defaultValue "completed" */
  initialState?: SnapshotState;
}

interface StoredSnapshot extends ProviderSnapshot {
  data: Uint8Array;
  token?: string;
}

export class MemoryVolumeProvider implements VolumeProvider {
  readonly kind = 'memory';
  /** Refs actually deleted, in order (a repeated delete of a missing snapshot is not listed). */
  readonly deleted: SnapshotRef[] = [];
  private readonly snapshots = new Map<SnapshotRef, StoredSnapshot>();
  private counter = 0;

  constructor(
    private readonly volumes: Record<string, MemoryVolume>,
    private readonly options: MemoryVolumeProviderOptions,
  ) {}

  async discover(selector: VolumeSelectorSpec): Promise<DiscoveredVolume[]> {
    return Object.keys(this.volumes)
      .sort()
      .map((id) => ({ id, name: this.volumes[id]!.name ?? id, tags: [...(this.volumes[id]!.tags ?? [])], sizeBytes: this.volumes[id]!.data.length }))
      .filter((v) => selectorMatches(selector, v));
  }

  async createSnapshot(volumeId: string, tags: readonly string[], clientToken: string): Promise<SnapshotRef> {
    if (!clientToken) throw new InvalidInputError('client token must not be empty', 'clientToken');
    const existing = [...this.snapshots.values()].find((s) => s.token === clientToken);
    if (existing) return existing.ref;
    return this.store(volumeId, this.options.clock.now(), tags, this.options.initialState ?? 'completed', clientToken);
  }

  /** Adds a snapshot as if the fleet had made it at `time` (a history for a test to start from). */
  addSnapshot(volumeId: string, time: Date, tags: readonly string[], state: SnapshotState = 'completed'): SnapshotRef {
    return this.store(volumeId, time, tags, state);
  }

  setState(ref: SnapshotRef, state: SnapshotState): void {
    this.get(ref).state = state;
  }

  async snapshotState(ref: SnapshotRef): Promise<SnapshotState> {
    return this.get(ref).state;
  }

  async openSource(volumeId: string, ref: SnapshotRef): Promise<VolumeSource> {
    const s = this.get(ref);
    if (s.volumeId !== volumeId) throw new InvalidInputError(`snapshot ${ref} is not of volume ${volumeId}`, 'ref');
    if (s.state !== 'completed') throw new InvalidInputError(`snapshot ${ref} is ${s.state}, not readable`, 'ref');
    return new MemoryVolumeSource(s.data, { sourceRef: ref, ...(this.options.blockSize ? { blockSize: this.options.blockSize } : {}) });
  }

  // A deleted volume's snapshots outlive it (orphans): listing them needs no volume.
  async listSnapshots(volumeId: string, tags: readonly string[]): Promise<ProviderSnapshot[]> {
    return [...this.snapshots.values()]
      .filter((s) => s.volumeId === volumeId && tags.every((t) => s.tags.includes(t)))
      .sort((a, b) => a.time.getTime() - b.time.getTime() || (a.ref < b.ref ? -1 : 1))
      .map(({ ref, time, tags: t, state }) => ({ ref, volumeId, time: new Date(time), tags: [...t], state }));
  }

  async deleteSnapshot(ref: SnapshotRef): Promise<void> {
    if (this.snapshots.delete(ref)) this.deleted.push(ref);
  }

  private store(volumeId: string, time: Date, tags: readonly string[], state: SnapshotState, token?: string): SnapshotRef {
    const volume = this.volume(volumeId);
    this.counter += 1;
    const ref = `mem-snap-${String(this.counter).padStart(4, '0')}`;
    // A copy: writes to the volume after this point in time must not show in the snapshot.
    this.snapshots.set(ref, { ref, volumeId, time: new Date(time), tags: [...tags], state, data: volume.data.slice(), ...(token ? { token } : {}) });
    return ref;
  }

  private volume(volumeId: string): MemoryVolume {
    const v = this.volumes[volumeId];
    if (!v) throw new NotFoundError(`volume ${volumeId} does not exist`);
    return v;
  }

  private get(ref: SnapshotRef): StoredSnapshot {
    const s = this.snapshots.get(ref);
    if (!s) throw new NotFoundError(`snapshot ${ref} does not exist`);
    return s;
  }
}
