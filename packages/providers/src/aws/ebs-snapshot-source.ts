/**
 * EbsSnapshotSource: a completed EBS snapshot read through the EBS direct APIs, as a VolumeSource.
 * - writtenBlocks() lists the snapshot's blocks (ListSnapshotBlocks): unlisted blocks hold no
 *   data and are never read.
 * - changedBlocksSince(parent) lists only the blocks that differ from an earlier snapshot of the
 *   same volume (ListChangedBlocks), so an incremental archive reads only those.
 * - readBlock() fetches one 512 KiB block with the token its listing gave and verifies it against
 *   the service's SHA-256 before returning it. Tokens live in a bounded cache; a block whose token
 *   is unknown, evicted or expired is listed again from that block on.
 */
import { InvalidInputError, NotFoundError, PermanentError, TransientError, type VolumeSource } from '@snapfleet/shared';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import type { EbsApi } from './ebs-api.js';
import { listChangedBlocks, listSnapshotBlocks, type BlockListPage } from './ebs-block-listing.js';
import { EBS_BLOCK_SIZE, getSnapshotBlock } from './ebs-block-read.js';
import { BlockTokenCache, DEFAULT_MAX_CACHED_TOKENS, type TokenLookup } from './ebs-block-tokens.js';
import { ebsValidationReason, isBlockTokenRejected } from './ebs-errors.js';
import type { DescribeEbsSnapshot, EbsSnapshotInfo } from './ebs-snapshot-lookup.js';

const GiB = 1024 ** 3;
const SNAPSHOT_ID = /^snap-[0-9a-f]+$/;

export interface EbsSnapshotSourceOptions {
  api: EbsApi;
  snapshotId: string;
  /** State, size and volume of a snapshot (EC2 DescribeSnapshots); decides whether changes can be listed. */
  describeSnapshot: DescribeEbsSnapshot;
  /** Told why a changed-block list was not used (the archive then reads every written block). */
  log?: Pick<FleetLogger, 'warn'>;
  /**
   * Bytes to expose instead of the snapshot's whole-GiB size; at most that size. For test volumes
   * of a few MiB and for volumes restored from an image that was not a whole number of GiB.
   * @defaultValue VolumeSize GiB
   */
  sizeBytes?: number;
  /** @defaultValue DEFAULT_MAX_CACHED_TOKENS */
  maxCachedTokens?: number;
  /** Epoch ms, for token expiry. @defaultValue Date.now */
  now?: () => number;
}

export class EbsSnapshotSource implements VolumeSource {
  readonly blockSize = EBS_BLOCK_SIZE;
  readonly sourceRef: string;
  private readonly tokens: BlockTokenCache;
  private readonly now: () => number;
  private refilling?: Promise<void>;
  private closed = false;

  private constructor(
    private readonly options: EbsSnapshotSourceOptions,
    private readonly info: EbsSnapshotInfo,
    readonly sizeBytes: number,
  ) {
    this.sourceRef = options.snapshotId;
    this.tokens = new BlockTokenCache(options.maxCachedTokens ?? DEFAULT_MAX_CACHED_TOKENS);
    this.now = options.now ?? Date.now;
  }

  /** Opens a completed snapshot; a missing one is NotFoundError, a pending one TransientError. */
  static async open(options: EbsSnapshotSourceOptions): Promise<EbsSnapshotSource> {
    const { snapshotId, api } = options;
    if (!SNAPSHOT_ID.test(snapshotId)) throw new InvalidInputError(`${snapshotId} is not an EBS snapshot id (snap-…)`, 'snapshotId');
    const info = await options.describeSnapshot(snapshotId);
    if (!info) throw new NotFoundError(`EBS snapshot ${snapshotId} does not exist in ${api.region}`);
    if (info.state === 'pending') throw new TransientError(`EBS snapshot ${snapshotId} is still pending: its blocks can be read once it completes`);
    if (info.state !== 'completed') throw new PermanentError(`EBS snapshot ${snapshotId} is in state ${info.state}, not completed: its blocks cannot be read`);
    const whole = info.volumeSizeGiB * GiB;
    const sizeBytes = options.sizeBytes ?? whole;
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes > whole) {
      throw new InvalidInputError(`size ${sizeBytes} is not between 1 byte and the ${info.volumeSizeGiB} GiB of EBS snapshot ${snapshotId}`, 'sizeBytes');
    }
    return new EbsSnapshotSource(options, info, sizeBytes);
  }

  get blockCount(): number {
    return Math.ceil(this.sizeBytes / this.blockSize);
  }

  async *writtenBlocks(): AsyncIterable<number> {
    for await (const page of listSnapshotBlocks(this.options.api, this.sourceRef, 0, this.now)) {
      this.record(page, true);
      for (const b of page.blocks) if (b.index < this.blockCount) yield b.index;
    }
  }

  async changedBlocksSince(parentRef: string): Promise<AsyncIterable<number> | undefined> {
    if (parentRef === this.sourceRef) return (async function* () {})(); // the same point in time: nothing changed
    const problem = await this.lineageProblem(parentRef);
    if (problem) return this.fallBack(parentRef, problem);
    const pages = listChangedBlocks(this.options.api, parentRef, this.sourceRef, this.now);
    // The first page is fetched here, so that a refusal still lets the archive read everything.
    let first: IteratorResult<BlockListPage>;
    try {
      first = await pages.next();
    } catch (err) {
      if (err instanceof NotFoundError || ebsValidationReason(err) !== undefined) return this.fallBack(parentRef, (err as Error).message);
      throw err;
    }
    return this.changedIndexes(first, pages);
  }

  private async *changedIndexes(first: IteratorResult<BlockListPage>, pages: AsyncGenerator<BlockListPage>): AsyncGenerator<number> {
    for (let next = first; !next.done; next = await pages.next()) {
      this.record(next.value, false);
      for (const b of next.value.blocks) if (b.index < this.blockCount) yield b.index;
    }
  }

  async readBlock(index: number, into?: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new PermanentError(`EBS snapshot source ${this.sourceRef} is closed`);
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.blockCount) {
      throw new InvalidInputError(`block ${index} is outside EBS snapshot ${this.sourceRef} (${this.blockCount} blocks)`, 'index');
    }
    const length = Math.min(this.blockSize, this.sizeBytes - index * this.blockSize);
    if (into && into.byteLength < length)
      throw new InvalidInputError(`buffer of ${into.byteLength} bytes is too small for block ${index} (${length} bytes)`, 'into');
    // The service always sends a whole block; a short last block (sizeBytes option) needs scratch space.
    const dest = into && into.byteLength >= EBS_BLOCK_SIZE ? into : new Uint8Array(EBS_BLOCK_SIZE);
    const found = await this.fetch(index, dest);
    if (found.kind === 'unwritten') dest.fill(0, 0, length);
    if (into) {
      if (dest !== into) into.set(dest.subarray(0, length));
      return into.subarray(0, length);
    }
    // The caller may transfer the block to a worker thread: it must own its whole buffer.
    return length === dest.byteLength ? dest : dest.slice(0, length);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.tokens.clear();
  }

  /** Reads block `index` into `dest` unless it holds no data; a rejected token is renewed once. */
  private async fetch(index: number, dest: Uint8Array): Promise<TokenLookup> {
    let found = await this.tokenFor(index);
    if (found.kind === 'unwritten') return found;
    try {
      await getSnapshotBlock(this.options.api, this.sourceRef, index, found.token, dest);
      return found;
    } catch (err) {
      if (!isBlockTokenRejected(err)) throw err;
    }
    this.tokens.forget(index);
    found = await this.tokenFor(index);
    if (found.kind === 'token') await getSnapshotBlock(this.options.api, this.sourceRef, index, found.token, dest);
    return found;
  }

  private async tokenFor(index: number): Promise<TokenLookup> {
    const cached = this.tokens.lookup(index, this.now());
    if (cached) return cached;
    await this.relist(index);
    // A listing just made is the service's current word, even if its ExpiryTime is near.
    const fresh = this.tokens.lookup(index, -Infinity);
    if (!fresh) throw new PermanentError(`EBS ListSnapshotBlocks of ${this.sourceRef} from block ${index} did not cover block ${index}`);
    return fresh;
  }

  /**
   * Lists from block `index` on until a page vouches for it. One listing at a time: concurrent
   * readers of neighbouring blocks wait for it and usually find their tokens in the same page.
   */
  private async relist(index: number): Promise<void> {
    while (this.refilling) {
      await this.refilling.catch(() => {});
      if (this.tokens.lookup(index, this.now())) return;
    }
    const run = (async () => {
      for await (const page of listSnapshotBlocks(this.options.api, this.sourceRef, index, this.now)) {
        this.record(page, true);
        if (page.to >= index) return;
      }
    })();
    this.refilling = run;
    try {
      await run;
    } finally {
      if (this.refilling === run) this.refilling = undefined;
    }
  }

  private record(page: BlockListPage, complete: boolean): void {
    if (page.blockSize !== undefined && page.blockSize !== EBS_BLOCK_SIZE) {
      throw new PermanentError(`EBS snapshot ${this.sourceRef} has ${page.blockSize}-byte blocks; only ${EBS_BLOCK_SIZE} is supported`);
    }
    this.tokens.add({ ...page, complete });
  }

  /** Why ListChangedBlocks cannot be used against `parentRef`, or undefined when it can. */
  private async lineageProblem(parentRef: string): Promise<string | undefined> {
    if (!SNAPSHOT_ID.test(parentRef)) return `the parent's point in time ${parentRef} is not an EBS snapshot`;
    const parent = await this.options.describeSnapshot(parentRef);
    if (!parent) return `parent snapshot ${parentRef} no longer exists`;
    if (parent.state !== 'completed') return `parent snapshot ${parentRef} is ${parent.state}, not completed`;
    const mine = this.info.volumeId;
    if (!mine || !parent.volumeId) return `the volume of ${mine ? parentRef : this.sourceRef} is unknown, so the lineage cannot be checked`;
    if (parent.volumeId !== mine) return `parent snapshot ${parentRef} is of volume ${parent.volumeId}, ${this.sourceRef} of volume ${mine}`;
    return undefined;
  }

  private fallBack(parentRef: string, reason: string): undefined {
    this.options.log?.warn(
      { snapshotId: this.sourceRef, parentRef, reason },
      `changed blocks of ${this.sourceRef} since ${parentRef} are not available (${reason}): reading every written block`,
    );
    return undefined;
  }
}
