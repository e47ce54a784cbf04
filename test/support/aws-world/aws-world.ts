/**
 * The test side of the fake AWS world (world-files.mjs): make EBS volumes with a chosen layout of
 * data blocks and holes, change them between ticks, hand `snapfleet` processes the environment
 * that loads preload.mjs, and read back what they did: snapshots, per-process call logs, and the
 * blocks a restore wrote.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CliEnv } from '../cli.js';
import { BLOCK_SIZE, imageBlockCount, isZeroBlock, readImageBlock, World, type CallRecord, type SnapshotRecord, type WorldSettings } from './world-files.mjs';

export { BLOCK_SIZE, type CallRecord, type SnapshotRecord };

export const PRELOAD_URL = pathToFileURL(fileURLToPath(new URL('./preload.mjs', import.meta.url))).href;
/** Port 9 (discard) on loopback: nothing listens there in a test environment. */
const UNREACHABLE = 'http://127.0.0.1:9';

/** One letter per 512 KiB block: `D` data, `.` a hole (all zeros). */
export type BlockLayout = string;

/**
 * A data block: 4 KiB of random bytes repeated. Every block differs from every other (no dedup
 * between them), yet compresses ~100x, so archives spend their time on API calls, not on zstd.
 */
function dataBlock(): Buffer {
  const page = randomBytes(4096);
  return Buffer.concat(Array.from({ length: BLOCK_SIZE / page.byteLength }, () => page));
}

export type BlockChange = { index: number; to: 'data' | 'hole' | 'patch' };

export class AwsWorld {
  private constructor(readonly world: World) {}

  static create(dir: string, settings: Partial<WorldSettings> = {}): AwsWorld {
    return new AwsWorld(World.create(dir, settings));
  }

  get dir(): string {
    return this.world.dir;
  }

  /**
   * What a `snapfleet` process needs to live in this world: the preload, the world directory, and
   * credentials and a region for the SDK's default chain (never sent anywhere: every call is faked).
   * The EC2 and EBS endpoints point at a closed local port, so a call that somehow missed the
   * mock fails at once instead of going out to AWS.
   */
  env(extra: CliEnv = {}): CliEnv {
    return {
      NODE_OPTIONS: `--import ${PRELOAD_URL}`,
      SNAPFLEET_AWS_WORLD: this.world.dir,
      AWS_ACCESS_KEY_ID: 'AKIAFAKEWORLD0000000',
      AWS_SECRET_ACCESS_KEY: 'fake-world-secret-key',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_EC2: UNREACHABLE,
      AWS_ENDPOINT_URL_EBS: UNREACHABLE,
      ...extra,
    };
  }

  /** A 1 GiB EBS volume (whole GiB, as EBS sizes them) whose first blocks follow `layout`. */
  async addVolume(id: string, region: string, tags: Record<string, string>, layout: BlockLayout): Promise<void> {
    const blocks = [...layout].map((c) => (c === 'D' ? dataBlock() : Buffer.alloc(BLOCK_SIZE)));
    await writeFile(this.world.volumeImage(id), Buffer.concat(blocks));
    this.world.addVolume({ id, region, sizeGiB: 1, tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) });
  }

  /** Changes blocks in place: new data, zeros, or 4 KiB rewritten inside the block. */
  async changeBlocks(volumeId: string, changes: BlockChange[]): Promise<void> {
    const file = await open(this.world.volumeImage(volumeId), 'r+');
    try {
      for (const c of changes) {
        const at = c.index * BLOCK_SIZE;
        if (c.to === 'data') await file.write(dataBlock(), 0, BLOCK_SIZE, at);
        else if (c.to === 'hole') await file.write(Buffer.alloc(BLOCK_SIZE), 0, BLOCK_SIZE, at);
        else await file.write(randomBytes(4096), 0, 4096, at + 64 * 1024);
      }
    } finally {
      await file.close();
    }
  }

  volumeImage(id: string): string {
    return this.world.volumeImage(id);
  }

  snapshots(): SnapshotRecord[] {
    return this.world.snapshots();
  }

  /** The snapshots CreateSnapshot made of `volumeId`, oldest first. */
  snapshotsOf(volumeId: string): SnapshotRecord[] {
    return this.snapshots()
      .filter((s) => s.origin === 'create' && s.volumeId === volumeId)
      .sort((a, b) => a.startTime - b.startTime);
  }

  calls(api?: string): CallRecord[] {
    const all = this.world.calls();
    return api ? all.filter((c) => c.api === api) : all;
  }

  puts(snapshotId: string): { index: number; sha256: string }[] {
    return this.world.puts(snapshotId);
  }

  snapshotImage(id: string): string {
    return this.world.snapshotImage(id);
  }
}

/** The non-zero blocks of an image (zero-extended past its end) with their SHA-256 in hex. */
export function dataBlocks(path: string): { index: number; sha256: string }[] {
  const out = [];
  for (let i = 0; i < imageBlockCount(path); i++) {
    const b = readImageBlock(path, i);
    if (!isZeroBlock(b)) out.push({ index: i, sha256: createHash('sha256').update(b).digest('hex') });
  }
  return out;
}

/** Indexes of the blocks that differ between two images, each read as zero-extended. */
export function differingBlocks(a: string, b: string): number[] {
  const out = [];
  for (let i = 0; i < Math.max(imageBlockCount(a), imageBlockCount(b)); i++) if (!readImageBlock(a, i).equals(readImageBlock(b, i))) out.push(i);
  return out;
}

/** Calls per second over the span of `calls`: (count - 1) / (last - first). */
export function measuredRate(calls: readonly CallRecord[]): number {
  if (calls.length < 2) return 0;
  return ((calls.length - 1) * 1000) / (calls.at(-1)!.t - calls[0]!.t);
}

/**
 * The highest rate over any run of `window` consecutive calls: a limiter that lets a burst
 * through shows it here even when the average over the whole span looks fine.
 */
export function peakRate(calls: readonly CallRecord[], window: number): number {
  let peak = 0;
  for (let i = 0; i + window < calls.length; i++) peak = Math.max(peak, (window * 1000) / (calls[i + window]!.t - calls[i]!.t));
  return peak;
}
