/**
 * VolumeProvider: where volumes come from and how a point in time of one is taken (the local
 * provider: image files and block devices; AWS: EBS volumes and snapshots). The fleet's snapshot
 * job creates and polls snapshots through it, the archive job opens the snapshot as a
 * VolumeSource. Adapters translate their errors into the engine's classes (errors.ts): a missing
 * volume is NotFoundError, throttling ThrottledError.
 */
import type { VolumeSource } from './volume-source.js';
import type { VolumeTarget } from './volume-target.js';

export interface VolumeSelectorSpec {
  /** Volumes with every one of these tags. */
  tags?: readonly string[];
  /** Volumes with one of these ids. */
  ids?: readonly string[];
  /** Volumes whose name matches this shell glob. */
  namePattern?: string;
  /** Volumes attached to one of these instances (AWS), snapshotted together per instance. */
  instances?: readonly string[];
}

export interface DiscoveredVolume {
  id: string;
  name: string;
  tags: string[];
  sizeBytes: number;
  /** The instances the volume is attached to, where the provider knows (AWS). */
  instanceIds?: string[];
  /** Where the volume lives, for providers with regions (AWS): jobs may be routed by it. */
  region?: string;
}

/** A provider snapshot: opaque to the fleet, meaningful to the provider that made it. */
export type SnapshotRef = string;

export type SnapshotState = 'pending' | 'completed' | 'error';

/** A provider snapshot the fleet made, as listed for snapshot-tier retention. */
export interface ProviderSnapshot {
  ref: SnapshotRef;
  volumeId: string;
  /** When the snapshot was started. */
  time: Date;
  /** The tags createSnapshot was given (policy, slot, the policy's own tags). */
  tags: string[];
  state: SnapshotState;
}

/**
 * A place copies of the fleet's snapshots are kept (AWS: a disaster-recovery region). Which
 * copies to keep there is the fleet's configuration (`copyRetentionOf` in config/), applied by
 * the worker: the provider only copies, lists and deletes.
 */
export interface SnapshotCopyTarget {
  /** The target's name, e.g. the region "us-west-2". */
  name: string;
}

/**
 * Copies of provider snapshots kept elsewhere. A copy's ref works with the provider's
 * snapshotState and deleteSnapshot like any other ref.
 */
export interface SnapshotCopies {
  readonly targets: readonly SnapshotCopyTarget[];
  /**
   * Starts a copy of the completed snapshot `ref` of `volumeId` at `target`, carrying the source's
   * tags. May be called twice; must be idempotent (returns the first copy).
   */
  copy(volumeId: string, ref: SnapshotRef, target: string): Promise<SnapshotRef>;
  /** The volume's copies at `target` that carry every one of `tags`, oldest first. */
  listCopies(volumeId: string, target: string, tags: readonly string[]): Promise<ProviderSnapshot[]>;
}

/** What a restore drill asks the provider for: a scratch place for one volume's restore. */
export interface ScratchRequest {
  /** Bytes the restore writes (the snapshot's volume size). */
  sizeBytes: number;
  /** The fleet volume the snapshot is of: the provider may place the scratch copy near it (its region). */
  volumeId: string;
  /** The repository snapshot restored, kept on what is created (tags) for whoever finds it. */
  snapshotId: string;
  /** The policy whose drill this is. */
  policy: string;
  /**
   * Also make a volume of the copy here and wait until it is usable (AWS: an availability zone
   * of the volume's region), deleted with the rest. Absent: no volume.
   */
  volumeIn?: string;
}

/**
 * A scratch copy of one volume, made by the provider, that a drill restores into and reads back.
 * Everything the provider created for it carries a mark (AWS: the tag `snapfleet:source: drill`)
 * so that `ScratchTargets.sweep` finds what a killed worker left.
 */
export interface ScratchTarget {
  /** Where the restore writes; opened, written and committed by the restore. */
  readonly target: VolumeTarget;
  /**
   * The restored copy as a source of exactly `sizeBytes`, after the target was committed. May wait
   * (an EBS snapshot completing). The caller closes the source.
   */
  readBack(): Promise<VolumeSource>;
  /**
   * Deletes everything created for this copy, whether the restore completed, failed or never
   * started. May be called twice; must be idempotent. Rejects only when something could not be
   * deleted (naming it), so the drill can say so.
   */
  dispose(): Promise<void>;
}

/** A provider's scratch copies for restore drills (docs/operations.md, "Restore drills"). */
export interface ScratchTargets {
  /** Makes a scratch target for one drill. Creates nothing the caller's dispose() would not delete. */
  create(request: ScratchRequest): Promise<ScratchTarget>;
  /**
   * Deletes scratch resources of drills started before `before` that were never disposed of (a
   * worker killed mid-drill). Returns how many it deleted. May be called by several workers at
   * once; must be idempotent.
   */
  sweep(before: Date): Promise<number>;
}

export interface VolumeProvider {
  /** Short name for logs and metrics ("local", "aws"). */
  readonly kind: string;

  /** The volumes the selector covers, sorted by id. A selector with no criterion selects all. */
  discover(selector: VolumeSelectorSpec): Promise<DiscoveredVolume[]>;

  /**
   * Starts a snapshot of the volume. Idempotent by `clientToken`: called again with the same
   * token (a retried job, a second worker after a crash) it returns the snapshot the first call
   * created, never a second one. May be called twice; must be idempotent.
   */
  createSnapshot(volumeId: string, tags: readonly string[], clientToken: string): Promise<SnapshotRef>;

  /** Whether the snapshot is readable yet. Cheap: the fleet polls it by re-delaying its job. */
  snapshotState(ref: SnapshotRef): Promise<SnapshotState>;

  /** The snapshot's blocks, for archiving. The caller closes the source. */
  openSource(volumeId: string, ref: SnapshotRef): Promise<VolumeSource>;

  /**
   * The volume's snapshots made by the fleet that carry every one of `tags`, oldest first, for
   * snapshot-tier retention. A provider whose snapshots are not kept anywhere (local) lists none.
   */
  listSnapshots(volumeId: string, tags: readonly string[]): Promise<ProviderSnapshot[]>;

  /** Deletes the provider snapshot; deleting a missing one is not an error (idempotent). */
  deleteSnapshot(ref: SnapshotRef): Promise<void>;

  /** Copies to other places (disaster recovery). Absent: the provider makes none. */
  readonly copies?: SnapshotCopies;

  /** Scratch copies for restore drills (`drill.target: provider`). Absent: the provider makes none. */
  readonly scratch?: ScratchTargets;

  /**
   * A job's word on where a volume lives (the region the planner discovered it in, carried by
   * jobs routed by region), so the provider asks there first instead of looking for it in every
   * region. A hint, not a fact: a volume not found there is still looked for elsewhere.
   * Absent: the provider's volumes have no region.
   */
  noteRegion?(volumeId: string, region: string): void;
}
