/**
 * The state of the fake EBS world: snapshots made of 512 KiB blocks, their block tokens, and the
 * faults a test switches on (throttling bursts, empty pages that carry a NextToken, blocks whose
 * checksum does not match, expired block tokens, a new snapshot unknown to PutSnapshotBlock for a
 * while), plus the EC2 facts and calls the block reader and writer need (describe, wait, create
 * volume, delete). The SDK's side of it is fake-ebs-handlers.ts; fake-ebs.ts puts the two together.
 */
import { createHash } from 'node:crypto';
import type { EbsSnapshotInfo } from '../ebs-snapshot-lookup.js';
import type { EbsRestoreEc2 } from '../ebs-restore-volume.js';

export const FAKE_BLOCK_SIZE = 512 * 1024;
const GiB = 1024 ** 3;
/** Block tokens live seven days at EBS. */
const TOKEN_LIFE_MS = 7 * 24 * 3_600_000;

export type FakeEbsCommand = 'ListSnapshotBlocks' | 'ListChangedBlocks' | 'GetSnapshotBlock' | 'StartSnapshot' | 'PutSnapshotBlock' | 'CompleteSnapshot';

export interface FakeSnapshot {
  id: string;
  /** Snapshots written with StartSnapshot belong to no volume. */
  volumeId?: string;
  state: 'pending' | 'completed' | 'error';
  volumeSizeGiB: number;
  /** Written blocks; a block written with zeros is listed and read like any other. */
  blocks: Map<number, Uint8Array>;
  /** Bumped by expireTokens(): tokens of an older generation are refused. */
  generation: number;
  description?: string;
  tags?: Record<string, string>;
  clientToken?: string;
  encrypted?: boolean;
  kmsKeyArn?: string;
  timeoutMinutes?: number;
  /** PutSnapshotBlock answers "not found" this many more times (a new snapshot not yet visible). */
  invisibleFor: number;
  changedBlocksCount?: number;
  deleted?: boolean;
}

export interface FakeVolume {
  volumeId: string;
  snapshotId: string;
  zone: string;
  clientToken: string;
}

export interface AddSnapshotOptions {
  id?: string;
  volumeId?: string;
  /** @defaultValue ceil(data / 1 GiB) */
  volumeSizeGiB?: number;
  state?: FakeSnapshot['state'];
  /** Blocks to list even though they hold only zeros (EBS lists blocks that were written). */
  writtenZeroBlocks?: readonly number[];
}

export class FakeEbsState {
  readonly snapshots = new Map<string, FakeSnapshot>();
  readonly volumes: FakeVolume[] = [];
  /** Largest page the List* calls return (the service returns fewer than MaxResults at will). */
  pageSize = 10_000;
  /** Empty pages, each with a NextToken, served before every non-empty page. */
  emptyPages = 0;
  /** Epoch ms of the fake's clock; tests move it to expire tokens. */
  time = Date.parse('2026-03-01T00:00:00Z');
  /** ExpiryTime of newly listed tokens, relative to `time`. */
  tokenLifeMs = TOKEN_LIFE_MS;
  /** The next n NextTokens presented are refused as expired (page tokens live 60 minutes). */
  rejectPageTokens = 0;
  /** Puts that answer "not found" after each StartSnapshot. */
  invisibleAfterStart = 0;
  /** Blocks ("snap-…:index") served with one byte changed but the original checksum. */
  readonly corrupt = new Set<string>();
  /** The next n calls of a command are throttled. */
  readonly throttled = new Map<FakeEbsCommand, number>();
  readonly calls = new Map<FakeEbsCommand, number>();
  /** Awaited by every PutSnapshotBlock before it answers: lets tests hold requests in flight. */
  beforePut?: () => Promise<void>;
  /** Every block body PutSnapshotBlock received, as base64 sha256, by "snap-…:index". */
  readonly putHashes = new Map<string, string>();
  private nextId = 1;

  /** Adds a completed snapshot holding `data` (its non-zero blocks are "written"). */
  addSnapshot(data: Uint8Array, options: AddSnapshotOptions = {}): FakeSnapshot {
    const id = options.id ?? this.newId('snap');
    const blocks = new Map<number, Uint8Array>();
    const zeroWritten = new Set(options.writtenZeroBlocks ?? []);
    for (let index = 0; index * FAKE_BLOCK_SIZE < data.length; index++) {
      const block = new Uint8Array(FAKE_BLOCK_SIZE);
      block.set(data.subarray(index * FAKE_BLOCK_SIZE, Math.min(data.length, (index + 1) * FAKE_BLOCK_SIZE)));
      if (block.some((b) => b !== 0) || zeroWritten.has(index)) blocks.set(index, block);
    }
    const snapshot: FakeSnapshot = {
      id,
      ...(options.volumeId ? { volumeId: options.volumeId } : {}),
      state: options.state ?? 'completed',
      volumeSizeGiB: options.volumeSizeGiB ?? Math.max(1, Math.ceil(data.length / GiB)),
      blocks,
      generation: 0,
      invisibleFor: 0,
    };
    this.snapshots.set(id, snapshot);
    return snapshot;
  }

  /** A new, empty snapshot being written (StartSnapshot). */
  startSnapshot(volumeSizeGiB: number, extra: Partial<FakeSnapshot> = {}): FakeSnapshot {
    const snapshot: FakeSnapshot = {
      id: this.newId('snap'),
      state: 'pending',
      volumeSizeGiB,
      blocks: new Map(),
      generation: 0,
      invisibleFor: this.invisibleAfterStart,
      ...extra,
    };
    this.snapshots.set(snapshot.id, snapshot);
    return snapshot;
  }

  /** The snapshot's volume bytes (the first `sizeBytes`), zeros where no block was written. */
  readVolume(snapshotId: string, sizeBytes: number): Uint8Array {
    const out = new Uint8Array(sizeBytes);
    for (const [index, block] of this.get(snapshotId).blocks) {
      const at = index * FAKE_BLOCK_SIZE;
      if (at < sizeBytes) out.set(block.subarray(0, Math.min(FAKE_BLOCK_SIZE, sizeBytes - at)), at);
    }
    return out;
  }

  get(snapshotId: string): FakeSnapshot {
    const s = this.snapshots.get(snapshotId);
    if (!s || s.deleted) throw new Error(`fake EBS: no snapshot ${snapshotId}`);
    return s;
  }

  /** Makes every token handed out so far for the snapshot invalid (as after seven days). */
  expireTokens(snapshotId: string): void {
    this.get(snapshotId).generation++;
  }

  throttle(command: FakeEbsCommand, times: number): void {
    this.throttled.set(command, times);
  }

  callCount(command: FakeEbsCommand): number {
    return this.calls.get(command) ?? 0;
  }

  tokenFor(snapshot: FakeSnapshot, index: number): string {
    return Buffer.from(`${snapshot.id}.${index}.${snapshot.generation}`).toString('base64');
  }

  checksum(data: Uint8Array): string {
    return createHash('sha256').update(data).digest('base64');
  }

  /** EC2 DescribeSnapshots, as the block reader's lineage check wants it. */
  readonly describe = async (snapshotId: string): Promise<EbsSnapshotInfo | undefined> => {
    const s = this.snapshots.get(snapshotId);
    if (!s || s.deleted) return undefined;
    return { snapshotId, ...(s.volumeId ? { volumeId: s.volumeId } : {}), state: s.state, volumeSizeGiB: s.volumeSizeGiB };
  };

  /** The EC2 calls of a restore: waiting for completion, CreateVolume, DeleteSnapshot. */
  readonly ec2: EbsRestoreEc2 = {
    waitUntilCompleted: async (snapshotId) => {
      if (this.get(snapshotId).state !== 'completed') throw new Error(`fake EC2: ${snapshotId} is not completed`);
    },
    createVolume: async (snapshotId, zone, clientToken) => {
      const existing = this.volumes.find((v) => v.clientToken === clientToken);
      if (existing) return existing.volumeId;
      const volume = { volumeId: this.newId('vol'), snapshotId, zone, clientToken };
      this.volumes.push(volume);
      return volume.volumeId;
    },
    deleteSnapshot: async (snapshotId) => {
      const s = this.snapshots.get(snapshotId);
      if (s) s.deleted = true;
    },
  };

  newId(kind: 'snap' | 'vol'): string {
    return `${kind}-${(this.nextId++).toString(16).padStart(17, '0')}`;
  }

  expiry(): Date {
    return new Date(this.time + this.tokenLifeMs);
  }
}
