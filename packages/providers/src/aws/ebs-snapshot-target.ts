/**
 * EbsSnapshotTarget: restores into a new EBS snapshot written through the EBS direct APIs
 * (StartSnapshot, PutSnapshotBlock, CompleteSnapshot), and optionally a volume created from it.
 * - Writes are assembled into 512 KiB blocks; a block is sent once every byte of it is known, and
 *   blocks that are all zero are never sent (the new snapshot reads zeros there anyway).
 * - Up to `putsInFlight` blocks are sent at once in the background, so a restore is not bound by
 *   one request's latency; write() waits only when that many are on their way.
 * - A snapshot cannot be completed half-written: abort() never calls CompleteSnapshot, and deletes
 *   the snapshot through EC2 when it can (otherwise EBS fails it after StartSnapshot's Timeout).
 */
import { createHash, randomUUID } from 'node:crypto';
import { CompleteSnapshotCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { InvalidInputError, NotFoundError, PermanentError, type VolumeTarget } from '@snapfleet/shared';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import { callAws } from './aws-call.js';
import { ebsCallContext, type EbsApi } from './ebs-api.js';
import { BlockAssembler, type AssembledBlock } from './ebs-block-assembler.js';
import { EBS_BLOCK_SIZE } from './ebs-block-read.js';
import type { EbsRestoreEc2 } from './ebs-restore-volume.js';

const GiB = 1024 ** 3;
/** The largest EBS volume (io2 Block Express, gp3): 64 TiB. */
const MAX_VOLUME_GIB = 64 * 1024;
/** 32 blocks of 512 KiB in flight: 16 MiB of memory, ~160 MB/s at 100 ms per PutSnapshotBlock. */
const DEFAULT_PUTS_IN_FLIGHT = 32;
/** A new snapshot may be unknown to PutSnapshotBlock for a while (seconds, rarely a minute). */
const DEFAULT_NOT_FOUND_GRACE_MS = 120_000;
const NOT_FOUND_FIRST_DELAY_MS = 250;
const NOT_FOUND_MAX_DELAY_MS = 5_000;

export interface EbsSnapshotTargetOptions {
  api: EbsApi;
  /** The new snapshot's description. */
  description?: string;
  tags?: Readonly<Record<string, string>>;
  /** Makes StartSnapshot idempotent: a retried call returns the same snapshot. @defaultValue a random UUID */
  clientToken?: string;
  encrypted?: boolean;
  kmsKeyArn?: string;
  /**
   * Minutes without a written block after which EBS cancels the snapshot: the safety net when a
   * restore dies without aborting. @defaultValue 60 (the service's own default)
   */
  timeoutMinutes?: number;
  /** Create a volume from the snapshot in this availability zone (name or id) after completing it. */
  availabilityZone?: string;
  /** Needed to create the volume, and to delete the snapshot of an aborted restore. */
  ec2?: EbsRestoreEc2;
  log?: Pick<FleetLogger, 'warn'>;
  /** @defaultValue DEFAULT_PUTS_IN_FLIGHT */
  putsInFlight?: number;
  /** How long PutSnapshotBlock may answer "not found" after StartSnapshot. @defaultValue 120 s */
  notFoundGraceMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface EbsRestoreResult {
  snapshotId: string;
  volumeId?: string;
  /** Blocks sent with PutSnapshotBlock (all-zero blocks are not). */
  blocksWritten: number;
}

type State = 'new' | 'open' | 'completing' | 'completed' | 'committed' | 'aborted';

export class EbsSnapshotTarget implements VolumeTarget {
  private state: State = 'new';
  /** open()'s StartSnapshot, kept so abort() can wait for it. */
  private opening?: Promise<void>;
  private snapshotId?: string;
  private volumeId?: string;
  private assembler?: BlockAssembler;
  private startedAt = 0;
  private blocksWritten = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure?: unknown;
  private readonly clientToken: string;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: EbsSnapshotTargetOptions) {
    if (options.availabilityZone !== undefined && !options.ec2) {
      throw new InvalidInputError('creating a volume in an availability zone needs EC2 access', 'availabilityZone');
    }
    this.clientToken = options.clientToken ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? options.api.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get location(): string {
    const zone = this.options.availabilityZone ? `/${this.options.availabilityZone}` : '';
    return `ebs:${this.options.api.region}${zone}${this.snapshotId ? ` (${this.snapshotId})` : ''}`;
  }

  /** The new snapshot (and volume); meaningful after commit. */
  get result(): EbsRestoreResult {
    if (!this.snapshotId) throw new PermanentError('the EBS restore target was not opened');
    return { snapshotId: this.snapshotId, ...(this.volumeId ? { volumeId: this.volumeId } : {}), blocksWritten: this.blocksWritten };
  }

  async open(sizeBytes: number): Promise<void> {
    if (this.state !== 'new') throw new PermanentError(`EBS restore target ${this.location} was already opened`);
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new InvalidInputError(`invalid volume size ${sizeBytes}`, 'sizeBytes');
    // EBS sizes volumes in whole GiB; the bytes past the archived size read as zeros.
    const volumeSizeGiB = Math.max(1, Math.ceil(sizeBytes / GiB));
    if (volumeSizeGiB > MAX_VOLUME_GIB)
      throw new InvalidInputError(`a ${volumeSizeGiB} GiB volume is larger than EBS allows (${MAX_VOLUME_GIB} GiB)`, 'sizeBytes');
    this.state = 'open';
    this.opening = this.startSnapshot(sizeBytes, volumeSizeGiB);
    await this.opening;
  }

  private async startSnapshot(sizeBytes: number, volumeSizeGiB: number): Promise<void> {
    const { api, tags } = this.options;
    const out = await callAws(`EBS StartSnapshot of ${volumeSizeGiB} GiB in ${api.region}`, ebsCallContext(api, 'control'), (abortSignal) =>
      api.client.send(
        new StartSnapshotCommand({
          VolumeSize: volumeSizeGiB,
          ClientToken: this.clientToken,
          ...(this.options.description !== undefined ? { Description: this.options.description } : {}),
          ...(tags ? { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
          ...(this.options.encrypted !== undefined ? { Encrypted: this.options.encrypted } : {}),
          ...(this.options.kmsKeyArn !== undefined ? { KmsKeyArn: this.options.kmsKeyArn } : {}),
          ...(this.options.timeoutMinutes !== undefined ? { Timeout: this.options.timeoutMinutes } : {}),
        }),
        { abortSignal },
      ),
    );
    if (!out.SnapshotId) throw new PermanentError(`EBS StartSnapshot in ${api.region} returned no snapshot id`);
    if (out.BlockSize !== undefined && out.BlockSize !== EBS_BLOCK_SIZE) {
      throw new PermanentError(`EBS snapshot ${out.SnapshotId} has ${out.BlockSize}-byte blocks; only ${EBS_BLOCK_SIZE} is supported`);
    }
    this.snapshotId = out.SnapshotId;
    this.startedAt = this.now();
    this.assembler = new BlockAssembler(sizeBytes, EBS_BLOCK_SIZE, this.maxInFlight);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    await this.send(this.writable(offset, data.byteLength).write(offset, data));
  }

  async zero(offset: number, length: number): Promise<void> {
    await this.send(this.writable(offset, length).zero(offset, length));
  }

  async commit(): Promise<void> {
    const assembler = this.writable(0, 0);
    await this.send(assembler.drain());
    await this.settle();
    this.throwIfFailed();
    const { api } = this.options;
    const snapshotId = this.snapshotId!;
    this.state = 'completing';
    const out = await callAws(`EBS CompleteSnapshot of ${snapshotId} in ${api.region}`, ebsCallContext(api, 'control'), (abortSignal) =>
      api.client.send(new CompleteSnapshotCommand({ SnapshotId: snapshotId, ChangedBlocksCount: this.blocksWritten }), { abortSignal }),
    );
    if (out.Status === 'error') throw new PermanentError(`EBS CompleteSnapshot of ${snapshotId} reported state error`);
    this.state = 'completed';
    const zone = this.options.availabilityZone;
    if (zone !== undefined) {
      try {
        await this.options.ec2!.waitUntilCompleted(snapshotId);
        this.volumeId = await this.options.ec2!.createVolume(snapshotId, zone, `${this.clientToken}-volume`.slice(0, 64));
      } catch (err) {
        // The snapshot is whole and kept: say so, so a volume can be created from it by hand.
        if (err instanceof Error) err.message = `EBS snapshot ${snapshotId} was restored and completed, but no volume was created in ${zone}: ${err.message}`;
        throw err;
      }
    }
    this.state = 'committed';
  }

  async abort(): Promise<void> {
    const was = this.state;
    if (was === 'committed' || was === 'aborted') return;
    this.state = 'aborted';
    // An interrupt can come while StartSnapshot is in flight: the snapshot it makes is deleted too.
    await this.opening?.catch(() => undefined);
    await this.settle();
    // A completed snapshot holds the whole volume: only the volume step failed, keep it.
    if (was === 'completed' || !this.snapshotId) return;
    const snapshotId = this.snapshotId;
    const ec2 = this.options.ec2;
    try {
      if (!ec2) throw new PermanentError('no EC2 access to delete it');
      await ec2.deleteSnapshot(snapshotId);
    } catch (err) {
      this.options.log?.warn(
        { snapshotId, err: (err as Error).message },
        `the unfinished EBS snapshot ${snapshotId} could not be deleted; it was never completed, and EBS cancels it after ${this.options.timeoutMinutes ?? 60} minutes without writes`,
      );
    }
  }

  private get maxInFlight(): number {
    return Math.max(1, this.options.putsInFlight ?? DEFAULT_PUTS_IN_FLIGHT);
  }

  private writable(offset: number, length: number): BlockAssembler {
    if (this.state !== 'open' || !this.assembler) throw new PermanentError(`EBS restore target ${this.location} is ${this.state}, not open`);
    this.throwIfFailed();
    const valid = Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0;
    if (!valid || offset + length > this.assembler.sizeBytes) {
      throw new InvalidInputError(`range ${offset}+${length} is outside the volume (${this.assembler.sizeBytes} bytes)`, 'offset');
    }
    return this.assembler;
  }

  /** Starts a put per data block; waits while `maxInFlight` are on their way. */
  private async send(blocks: AssembledBlock[]): Promise<void> {
    for (const block of blocks) {
      if (!block.data) continue; // a hole: never sent
      while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
      this.throwIfFailed();
      const data = block.data;
      const put = this.put(block.index, data).then(
        () => {
          this.blocksWritten++;
          this.assembler?.release(data);
        },
        (err: unknown) => {
          this.failure ??= err;
        },
      );
      const tracked = put.finally(() => this.inFlight.delete(tracked));
      this.inFlight.add(tracked);
    }
  }

  private async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** PutSnapshotBlock, riding out the while in which a new snapshot is not yet known. */
  private async put(index: number, data: Uint8Array): Promise<void> {
    const { api } = this.options;
    const snapshotId = this.snapshotId!;
    const checksum = createHash('sha256').update(data).digest('base64');
    const what = `EBS PutSnapshotBlock of block ${index} (byte offset ${index * EBS_BLOCK_SIZE}) of ${snapshotId} in ${api.region}`;
    const graceEnds = this.startedAt + (this.options.notFoundGraceMs ?? DEFAULT_NOT_FOUND_GRACE_MS);
    for (let delay = NOT_FOUND_FIRST_DELAY_MS; ; delay = Math.min(NOT_FOUND_MAX_DELAY_MS, delay * 2)) {
      try {
        await callAws(what, ebsCallContext(api, 'put', snapshotId), (abortSignal) =>
          api.client.send(
            new PutSnapshotBlockCommand({
              SnapshotId: snapshotId,
              BlockIndex: index,
              BlockData: data,
              DataLength: data.byteLength,
              Checksum: checksum,
              ChecksumAlgorithm: 'SHA256',
            }),
            { abortSignal },
          ),
        );
        return;
      } catch (err) {
        if (!(err instanceof NotFoundError) || this.now() >= graceEnds || this.state === 'aborted') throw err;
      }
      await this.sleep(delay);
    }
  }
}
