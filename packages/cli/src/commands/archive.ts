/**
 * `snapfleet archive`: archives an image file or block device as a snapshot of a volume id,
 * incremental against that volume's latest snapshot unless --parent says otherwise.
 */
import type { Command } from 'commander';
import { archiveVolume, DEFAULT_ZSTD_LEVEL, InvalidInputError, type SnapshotEntry, type Repository } from '@snapfleet/shared';
import { startCodecThreads, LocalVolumeSource, localProcessIdentity } from '@snapfleet/providers';
import { damagedWarning, type CliContext, type RepoOptions } from '../context.js';
import { openRepo } from '../repository-access.js';
import { progressBar } from '../progress-bar.js';
import { parseIntFlag, parseSize, parseTime } from '../units.js';
import { mib, withRepoOptions } from './common.js';

interface ArchiveOptions extends RepoOptions {
  volumeId: string;
  time?: string;
  tag: string[];
  parent?: string;
  compressionLevel?: string;
  readSize?: string;
  packSize?: string;
}

async function findParent(repo: Repository, volumeId: string, ref: string | undefined, ctx: CliContext): Promise<SnapshotEntry | undefined> {
  if (ref === 'none') return undefined;
  if (ref) return repo.findSnapshot(ref, volumeId, damagedWarning(ctx));
  return (await repo.listVolumeSnapshots(volumeId, { onDamaged: damagedWarning(ctx) })).at(-1);
}

/** --read-size: a power of two and a whole number of the repository's chunks. */
function readSize(text: string, chunkSize: number): number {
  const n = parseSize(text, 'read-size');
  if (n < chunkSize || n % chunkSize !== 0 || (n & (n - 1)) !== 0) {
    throw new InvalidInputError(`read-size: ${text} must be a power of two and a multiple of the repository's chunk size (${chunkSize} bytes)`, 'read-size');
  }
  return n;
}

export function registerArchive(program: Command, ctx: CliContext): void {
  withRepoOptions(program.command('archive').description('archive an image file or block device').argument('<image-or-device>'))
    .requiredOption('--volume-id <id>', 'the volume this is a point in time of')
    .option('--time <iso8601>', 'record this capture time instead of now (to import histories)')
    .option('--tag <tag>', 'add a tag (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--parent <snapshot>', 'snapshot to build on, or "none" for a full read (default: the volume\'s latest)')
    .option('--compression-level <n>', `zstd level 1-19 (default ${DEFAULT_ZSTD_LEVEL})`)
    .option('--read-size <size>', 'bytes read from the image at a time (default 4MiB)')
    .option('--pack-size <MiB>', 'MiB a pack fills up to before it is stored, 1-128 (default 16)')
    .action(async (image: string, opts: ArchiveOptions) => {
      const time = opts.time ? parseTime(opts.time, 'time') : ctx.clock.now();
      const zstdLevel = opts.compressionLevel ? parseIntFlag(opts.compressionLevel, 'compression-level', 1, 19) : DEFAULT_ZSTD_LEVEL;
      const packSize = opts.packSize ? parseIntFlag(opts.packSize, 'pack-size', 1, 128) * 1024 * 1024 : undefined;
      // The codec threads load their modules while the repository opens (see restore).
      const threads = startCodecThreads();
      threads.warm();
      let repo: Repository;
      let source: LocalVolumeSource;
      try {
        repo = await openRepo(opts, ctx);
        const blockSize = opts.readSize ? readSize(opts.readSize, repo.chunkSize) : undefined;
        source = await LocalVolumeSource.open(image, blockSize ? { blockSize } : {});
      } catch (err) {
        await threads.close();
        throw err;
      }
      const pool = threads.withKeys(repo.keys);
      const bar = progressBar('archive', opts, ctx);
      const started = performance.now();
      try {
        const parent = await findParent(repo, opts.volumeId, opts.parent, ctx);
        const identity = localProcessIdentity();
        const result = await archiveVolume(repo, pool, {
          volumeId: opts.volumeId,
          source,
          time,
          clock: ctx.clock,
          tags: opts.tag,
          hostname: ctx.hostname,
          zstdLevel,
          ...(identity ? { identity } : {}),
          ...(packSize ? { packSize } : {}),
          ...(parent ? { parent } : {}),
          ...(bar.listener ? { onProgress: bar.listener } : {}),
        });
        bar.stop();
        const seconds = (performance.now() - started) / 1000;
        const s = result.snapshot.stats;
        if (opts.json) {
          ctx.stdout.write(
            JSON.stringify({
              snapshot: result.id,
              volumeId: opts.volumeId,
              parent: result.snapshot.parent ?? null,
              sizeBytes: source.sizeBytes,
              seconds,
              ...s,
            }) + '\n',
          );
        } else {
          ctx.stdout.write(
            `snapshot ${result.id.slice(0, 8)} of ${opts.volumeId} saved${parent ? ` (parent ${parent.id.slice(0, 8)})` : ''}\n` +
              `  read ${mib(s.readBytes)}, new data ${mib(s.newBytes)} in ${s.newBlobs} blobs, stored ${mib(s.storedBytes)}, ${(source.sizeBytes / 1e6 / seconds).toFixed(0)} MB/s\n`,
          );
        }
      } finally {
        bar.stop();
        await source.close();
        await pool.close();
      }
    });
}
