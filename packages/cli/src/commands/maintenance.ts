/**
 * `snapfleet maintenance`: adoption of orphan packs, locality (the newest snapshot of each
 * volume rewritten into contiguous packs when its restore would be scattered), then index
 * compaction (docs/format.md, "Index compaction" and "Locality"). Safe while archives run;
 * waits for no one, and stops if a prune holds the repository (they share one lease).
 */
import type { Command } from 'commander';
import {
  compactIndex,
  DEFAULT_MAX_DECODE_AMPLIFICATION,
  DEFAULT_MAX_READS_PER_GIB,
  InvalidInputError,
  type CompactionReport,
  type LocalityOptions,
  type LocalityReport,
  type MaintenanceReport,
} from '@snapfleet/shared';
import { createThreadCodecPool, localProcessIdentity } from '@snapfleet/providers';
import type { CliContext, RepoOptions } from '../context.js';
import { openRepo } from '../repository-access.js';
import { mib, withRepoOptions } from './common.js';
import { repositoryAudit, withFleetAuditOptions, type FleetAuditOptions } from '../repository-audit.js';

interface MaintenanceFlags {
  locality?: boolean;
  forceRelocation?: boolean;
  maxDecodeAmplification?: string;
  maxReadsPerGib?: string;
}

export function describeCompaction(r: CompactionReport): string {
  if (r.merged === 0) return `index: ${r.objectsBefore} objects, nothing to merge\n`;
  return `index: merged ${r.merged} of ${r.objectsBefore} objects into ${r.written} (${r.packs} packs, ${r.blobs} blobs); ${r.objectsAfter} objects now\n`;
}

function describeAdoption(r: MaintenanceReport): string {
  return r.adoptedPacks > 0 ? `adopted ${r.adoptedPacks} pack(s) stored without an index object\n` : '';
}

export function describeLocality(r: LocalityReport): string {
  return r.volumes
    .map((v) => {
      const seen = `${v.volumeId} (${v.snapshotId.slice(0, 12)}): restore would read ${v.reads} times (${Math.round(v.readsPerGiB)}/GiB), decode ${v.decodeAmplification.toFixed(2)}x`;
      return v.relocated
        ? `${seen}; relocated ${mib(v.copiedBytes)} into ${v.packsWritten} pack(s) (${mib(v.storedBytes)} stored)\n`
        : `${seen}; laid out well enough\n`;
    })
    .join('');
}

function number(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new InvalidInputError(`${flag}: "${text}" must be a number of at least ${min}`, flag);
  return n;
}

function localityOptions(opts: MaintenanceFlags): LocalityOptions {
  const maxDecodeAmplification = number(opts.maxDecodeAmplification, 'max-decode-amplification', 1);
  const maxReadsPerGiB = number(opts.maxReadsPerGib, 'max-reads-per-gib', 1);
  return {
    ...(maxDecodeAmplification !== undefined ? { maxDecodeAmplification } : {}),
    ...(maxReadsPerGiB !== undefined ? { maxReadsPerGiB } : {}),
    ...(opts.forceRelocation ? { force: true } : {}),
  };
}

export function registerMaintenance(program: Command, ctx: CliContext): void {
  withFleetAuditOptions(
    withRepoOptions(
      program
        .command('maintenance')
        .description('keep restores and opening the repository fast: relocate scattered snapshots, compact the index (safe while archives run)'),
    ),
  )
    .option('--no-locality', 'skip the locality step: only adopt orphan packs and compact the index')
    .option(
      '--max-decode-amplification <x>',
      `relocate a volume's newest snapshot when its restore would decode more than this many times the data it writes (default ${DEFAULT_MAX_DECODE_AMPLIFICATION})`,
    )
    .option('--max-reads-per-gib <n>', `...or issue more than this many reads per GiB of data (default ${DEFAULT_MAX_READS_PER_GIB})`)
    .option('--force-relocation', "relocate every volume's newest snapshot that has anything outside densely read packs, whatever the thresholds")
    .action(async (opts: MaintenanceFlags & RepoOptions & FleetAuditOptions) => {
      const locality = localityOptions(opts);
      const audit = await repositoryAudit(ctx, opts, 'maintenance', 'maintenance');
      const repo = await openRepo(opts, ctx);
      const identity = localProcessIdentity();
      const pool = opts.locality === false ? undefined : createThreadCodecPool(repo.keys);
      try {
        const report = await audit.run(repo, async (note) => {
          const r = await compactIndex(repo, {
            clock: ctx.clock,
            hostname: ctx.hostname,
            ...(identity ? { identity } : {}),
            ...(pool ? { pool, locality } : {}),
          });
          note({
            adoptedPacks: r.adoptedPacks,
            mergedIndexObjects: r.merged,
            ...(r.locality ? { relocatedVolumes: r.locality.volumes.filter((v) => v.relocated).length } : {}),
          });
          return r;
        });
        ctx.stdout.write(
          opts.json
            ? JSON.stringify(report) + '\n'
            : describeAdoption(report) + (report.locality ? describeLocality(report.locality) : '') + describeCompaction(report),
        );
      } finally {
        await pool?.close();
      }
    });
}
