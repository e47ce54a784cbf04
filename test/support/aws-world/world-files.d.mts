/** Types of world-files.mjs for the TypeScript tests (the module itself runs untranspiled in CLI processes). */

export declare const BLOCK_SIZE: number;
export declare const GiB: number;

export interface WorldSettings {
  pendingPolls: number;
  pendingMs: number;
  pageBlocks: number;
  scanBlocks: number;
  describePage: number;
}
export declare const DEFAULT_SETTINGS: Readonly<WorldSettings>;

export interface Ec2Tag {
  Key: string;
  Value: string;
}

export interface VolumeRecord {
  id: string;
  region: string;
  az: string;
  sizeGiB: number;
  tags: Ec2Tag[];
}

export interface SnapshotRecord {
  id: string;
  region: string;
  origin: 'create' | 'start' | 'copy';
  volumeId?: string;
  volumeSizeGiB: number;
  tags: Ec2Tag[];
  description: string;
  startTime: number;
  state: 'pending' | 'completed' | 'error';
  pendingPolls: number;
  /** Epoch ms before which a completed snapshot still reads as pending (settings.pendingMs). */
  readyAt?: number;
  clientToken?: string;
  copyOf?: string;
  /** StartSnapshot's Encrypted and KmsKeyArn, as given (restores). */
  encrypted?: boolean;
  kmsKeyArn?: string;
}

export interface CallRecord {
  pid: number;
  api: string;
  /** Epoch milliseconds, with sub-millisecond precision. */
  t: number;
  region: string;
  snapshotId?: string;
  firstSnapshotId?: string;
  secondSnapshotId?: string;
  volumeId?: string;
  blockIndex?: number;
}

export interface PutRecord {
  index: number;
  sha256: string;
}

export declare class WorldError extends Error {
  constructor(service: 'ec2' | 'ebs', code: string, message: string, reason?: string);
  readonly service: string;
  readonly code: string;
  readonly reason?: string;
}

export declare function isZeroBlock(buf: Buffer): boolean;
export declare function readImageBlock(path: string, index: number): Buffer;
export declare function imageBlockCount(path: string): number;

export declare class World {
  constructor(dir: string, overrides?: Partial<WorldSettings>);
  static create(dir: string, settings?: Partial<WorldSettings>): World;
  readonly dir: string;
  readonly settings: WorldSettings;
  volumeImage(id: string): string;
  snapshotImage(id: string): string;
  putLogPath(id: string): string;
  addVolume(volume: Partial<VolumeRecord> & { id: string; region: string }): VolumeRecord;
  volumes(): VolumeRecord[];
  deleteVolume(id: string): void;
  volume(id: string): VolumeRecord | undefined;
  snapshots(): SnapshotRecord[];
  snapshot(id: string): SnapshotRecord | undefined;
  saveSnapshot(record: SnapshotRecord): void;
  stateOf(record: SnapshotRecord): SnapshotRecord['state'];
  polls(id: string): number;
  /** `snap-` or `vol-` and 17 random hex digits, as EC2's ids: unique across processes. */
  newId(prefix: 'snap' | 'vol'): string;
  calls(): CallRecord[];
  puts(id: string): PutRecord[];
}
