/**
 * The state of the fake EC2 world: volumes, instances and snapshots in several regions, snapshots
 * pending for a number of polls, the faults a test injects, and every call made. The SDK's side of
 * it is fake-ec2-handlers.ts; fake-ec2.ts puts the two together.
 *
 * Linked to a fake EBS world, every snapshot the fake EC2 makes is also an EBS snapshot holding
 * the volume's bytes at that moment, so the provider's openSource reads them through the real
 * EbsSnapshotSource and the EBS direct API fake.
 */
import type { FakeEbsState } from './fake-ebs-state.js';

export const FAKE_ACCOUNT = '123456789012';

export type FakeEc2Command =
  'DescribeVolumes' | 'DescribeInstances' | 'DescribeSnapshots' | 'CreateSnapshot' | 'CreateSnapshots' | 'CopySnapshot' | 'DeleteSnapshot';

export interface FakeEc2Volume {
  id: string;
  region: string;
  sizeGiB: number;
  tags: Record<string, string>;
  state: 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted' | 'error';
  attachments: string[];
  /** The volume's bytes (tests keep them small); snapshots copy them. */
  data: Uint8Array;
}

export interface FakeEc2Instance {
  id: string;
  region: string;
  rootVolumeId?: string;
  volumeIds: string[];
  state: 'running' | 'stopped' | 'terminated';
}

export interface FakeEc2Snapshot {
  id: string;
  region: string;
  /** EC2 reports `vol-ffffffff` for copies. */
  volumeId: string;
  volumeSizeGiB: number;
  tags: Record<string, string>;
  state: 'pending' | 'completed' | 'error';
  startTime: Date;
  description: string;
  encrypted: boolean;
  kmsKeyId?: string;
  /** DescribeSnapshots by id still answering "pending". */
  pollsLeft: number;
  deleted: boolean;
  data: Uint8Array;
}

export interface FakeFault {
  name: string;
  status: number;
  times: number;
  /**
   * `refuse`: the request fails without effect (throttling, validation). `lose`: the request is
   * carried out but its answer is lost (a 5xx or a dropped connection after EC2 acted). `hang`: no
   * answer ever comes (only the caller's timeout ends the call).
   */
  mode: 'refuse' | 'lose' | 'hang';
}

export interface FakeEc2Call {
  command: FakeEc2Command;
  region: string;
  input: Record<string, unknown>;
  /** The options `send` was given: the provider must pass an abortSignal on every call. */
  abortSignal?: AbortSignal;
}

export class FakeEc2State {
  readonly volumes = new Map<string, FakeEc2Volume>();
  readonly instances = new Map<string, FakeEc2Instance>();
  readonly snapshots = new Map<string, FakeEc2Snapshot>();
  readonly calls: FakeEc2Call[] = [];
  /** The largest page a describe returns (EC2 returns fewer than MaxResults at will). */
  pageSize = 1000;
  /** Empty pages, each with a NextToken, served before every non-empty page. */
  emptyPages = 0;
  /** How many DescribeSnapshots answers a new snapshot is pending in (EC2 moves on with time; the fake with polls). */
  pendingPolls = 2;
  /** Start time of the next snapshot; each new snapshot is one second later than the last. */
  time = Date.parse('2026-03-01T00:00:00Z');
  private readonly faults = new Map<FakeEc2Command, FakeFault[]>();
  private nextId = 0x100;

  constructor(readonly ebs?: FakeEbsState) {}

  addVolume(
    region: string,
    options: { data?: Uint8Array; tags?: Record<string, string>; sizeGiB?: number; id?: string; state?: FakeEc2Volume['state'] } = {},
  ): FakeEc2Volume {
    const volume: FakeEc2Volume = {
      id: options.id ?? this.newId('vol'),
      region,
      sizeGiB: options.sizeGiB ?? 1,
      tags: { ...(options.tags ?? {}) },
      state: options.state ?? 'available',
      attachments: [],
      data: options.data ?? new Uint8Array(0),
    };
    this.volumes.set(volume.id, volume);
    return volume;
  }

  /** An instance with `volumes` attached; the first is its root (boot) volume. */
  addInstance(region: string, volumes: readonly FakeEc2Volume[], id = this.newId('i')): FakeEc2Instance {
    const instance: FakeEc2Instance = {
      id,
      region,
      volumeIds: volumes.map((v) => v.id),
      state: 'running',
      ...(volumes[0] ? { rootVolumeId: volumes[0].id } : {}),
    };
    for (const v of volumes) {
      v.attachments.push(id);
      v.state = 'in-use';
    }
    this.instances.set(id, instance);
    return instance;
  }

  /** A snapshot made and owned by the fleet, directly (as an earlier run would have left it). */
  addSnapshot(volume: FakeEc2Volume, tags: Record<string, string>, state: FakeEc2Snapshot['state'] = 'completed'): FakeEc2Snapshot {
    const s = this.makeSnapshot(volume.region, volume, tags, `seeded snapshot of ${volume.id}`);
    s.state = state;
    s.pollsLeft = 0;
    this.syncEbs(s);
    return s;
  }

  /** The next `times` calls of `command` fail with the EC2 error `name` (HTTP `status`). */
  fail(command: FakeEc2Command, name: string, times = 1, status = 400, mode: FakeFault['mode'] = 'refuse'): void {
    const list = this.faults.get(command) ?? [];
    list.push({ name, status, times, mode });
    this.faults.set(command, list);
  }

  /** The fault the next call of `command` hits, if any. */
  takeFault(command: FakeEc2Command): FakeFault | undefined {
    const list = this.faults.get(command);
    const fault = list?.[0];
    if (!fault) return undefined;
    if (--fault.times <= 0) list!.shift();
    return fault;
  }

  callsOf(command: FakeEc2Command): FakeEc2Call[] {
    return this.calls.filter((c) => c.command === command);
  }

  /** Snapshots that exist (not deleted). */
  liveSnapshots(): FakeEc2Snapshot[] {
    return [...this.snapshots.values()].filter((s) => !s.deleted);
  }

  /** A new snapshot of `volume`, or a copy of `copyOf` (which EC2 gives the placeholder volume id). */
  makeSnapshot(
    region: string,
    volume: FakeEc2Volume | undefined,
    tags: Record<string, string>,
    description: string,
    copyOf?: FakeEc2Snapshot,
  ): FakeEc2Snapshot {
    const s: FakeEc2Snapshot = {
      id: this.newId('snap'),
      region,
      volumeId: volume?.id ?? 'vol-ffffffff',
      volumeSizeGiB: copyOf?.volumeSizeGiB ?? volume?.sizeGiB ?? 1,
      tags: { ...tags },
      state: 'pending',
      startTime: new Date((this.time += 1000)),
      description,
      encrypted: false,
      pollsLeft: this.pendingPolls,
      deleted: false,
      data: (copyOf?.data ?? volume?.data ?? new Uint8Array(0)).slice(),
    };
    if (s.pollsLeft === 0) s.state = 'completed';
    this.snapshots.set(s.id, s);
    this.syncEbs(s);
    return s;
  }

  /** Mirrors the snapshot into the linked EBS world (same id, bytes and state). */
  syncEbs(s: FakeEc2Snapshot): void {
    if (!this.ebs) return;
    const existing = this.ebs.snapshots.get(s.id);
    if (existing) {
      existing.state = s.state;
      existing.deleted = s.deleted;
      return;
    }
    this.ebs.addSnapshot(s.data, {
      id: s.id,
      ...(s.volumeId !== 'vol-ffffffff' ? { volumeId: s.volumeId } : {}),
      volumeSizeGiB: s.volumeSizeGiB,
      state: s.state,
    });
  }

  newId(kind: 'vol' | 'snap' | 'i'): string {
    return `${kind}-${(this.nextId++).toString(16).padStart(17, '0')}`;
  }
}
