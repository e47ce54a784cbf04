/**
 * `snapfleet repair index | packs | snapshots`: the way back from damage that verify found
 * (engine/repair-*.ts). Run in that order: the index rebuilt from the packs' own headers, the
 * damaged packs salvaged into new ones, then the snapshots that lost blocks rewritten with those
 * blocks declared. Each is safe to kill and to run again, and safe beside running archives.
 */
import type { Command } from 'commander';
import {
  describeRanges,
  repairIndex,
  repairPacks,
  repairSnapshots,
  InvalidInputError,
  NotFoundError,
  type PackRepairReport,
  type SnapshotRepairOptions,
  type SnapshotRepairReport,
  type IndexRepairReport,
} from '@snapfleet/shared';
import { createThreadCodecPool, LocalVolumeSource, localProcessIdentity } from '@snapfleet/providers';
import type { CliContext, RepoOptions } from '../context.js';
import { openRepo, openSourceRepo, repoUrl } from '../repository-access.js';
import { withRepoOptions } from './common.js';
import { repositoryAudit, withFleetAuditOptions, type FleetAuditOptions } from '../repository-audit.js';

interface PackRepairFlags extends RepoOptions, FleetAuditOptions {
  from?: string;
  fromPasswordFile?: string;
}

interface SnapshotRepairFlags extends RepoOptions, FleetAuditOptions {
  forget?: boolean;
  dryRun?: boolean;
  volumeId?: string;
  fromVolume?: string;
  config?: string;
}

/**
 * Where lost blocks may still be read: an image or device given for one volume, or the
 * provider snapshot each archive was taken from (its sourceRef, while the provider keeps it).
 */
async function blockSources(opts: SnapshotRepairFlags, ctx: CliContext): Promise<SnapshotRepairOptions['blocksFrom']> {
  if (opts.fromVolume) {
    if (!opts.volumeId) throw new InvalidInputError('--from-volume needs --volume-id: the volume whose blocks the path holds', 'from-volume');
    const path = opts.fromVolume;
    const volumeId = opts.volumeId;
    return async (entry) => (entry.snapshot.volumeId === volumeId ? LocalVolumeSource.open(path) : undefined);
  }
  if (opts.config) {
    // Loaded only here: the fleet's modules (the AWS SDK among them) cost start-up time.
    const [{ fleetProvider }, { loadFleetConfig }] = await Promise.all([import('../fleet/fleet-provider.js'), import('../fleet/fleet-config-file.js')]);
    const provider = fleetProvider(await loadFleetConfig(opts.config, ctx.env));
    return async (entry) => {
      const ref = entry.snapshot.sourceRef;
      if (!ref) return undefined;
      try {
        return await provider.openSource(entry.snapshot.volumeId, ref);
      } catch (err) {
        if (err instanceof NotFoundError || err instanceof InvalidInputError) return undefined; // deleted by retention, or not this provider's
        throw err;
      }
    };
  }
  return undefined;
}

const HEX64 = /^[0-9a-f]{64}$/;

function leaseOptions(ctx: CliContext) {
  const identity = localProcessIdentity();
  return { clock: ctx.clock, hostname: ctx.hostname, ...(identity ? { identity } : {}) };
}

function describeIndex(r: IndexRepairReport, where: string): string {
  const lines = [
    `index of ${where}: ${r.adoptedPacks} pack(s) indexed from their own headers, ${r.droppedPacks.length} missing pack(s) dropped, ${r.damagedObjects.length} damaged index object(s) replaced`,
  ];
  for (const p of r.droppedPacks) lines.push(`  dropped missing pack ${p}`);
  for (const k of r.damagedObjects) lines.push(`  replaced ${k}`);
  for (const k of r.deletedObjects) lines.push(`  deleted damaged ${k}`);
  if (r.unreadablePacks.length > 0)
    lines.push(
      `${r.unreadablePacks.length} pack(s) whose header does not read were left for \`snapfleet repair packs ${r.unreadablePacks.slice(0, 3).join(' ')}${r.unreadablePacks.length > 3 ? ' ...' : ''}\``,
    );
  return lines.join('\n') + '\n';
}

function describePacks(r: PackRepairReport): string {
  if (r.packs.length === 0) return 'no damaged packs recorded; run `snapfleet verify` to find them\n';
  const lines = r.packs.map((p) => {
    const fate = p.deleted ? 'removed' : `kept until ${p.retainedUntil} (Object Lock), dropped from the index`;
    const replica = p.fromReplica ? `, ${p.fromReplica} copied from the replica` : '';
    return `pack ${p.packId}: ${p.described ? `${p.salvagedBlobs} blob(s) salvaged${replica}, ${p.lostBlobs} lost` : 'neither the index nor its header says what it held'}; ${fate}`;
  });
  lines.push(
    `salvaged ${r.salvagedBlobs} blob(s)${r.fromReplica ? ` and copied ${r.fromReplica} from the replica` : ''} into ${r.newPacks} new pack(s); ${r.lostBlobs} blob(s) lost`,
  );
  if (r.lostBlobs > 0) lines.push('snapshots that used lost blobs: `snapfleet repair snapshots` rewrites them with the lost blocks declared');
  return lines.join('\n') + '\n';
}

function describeSnapshots(r: SnapshotRepairReport, dryRun: boolean): string {
  const lines = [
    `checked ${r.checked} snapshot(s)${r.alreadyRepaired.length ? `, ${r.alreadyRepaired.length} already repaired` : ''}${r.recoveredChunks ? `; ${r.recoveredChunks} lost block(s) found again on the volume and stored` : ''}`,
  ];
  for (const s of r.repaired) {
    const what = dryRun ? 'would be repaired' : `repaired as ${s.id!.slice(0, 8)}${s.forgotten ? ', original forgotten' : ', original kept'}`;
    lines.push(
      `  ${s.originalId.slice(0, 8)} (${s.volumeId}): ${s.damagedChunks} block(s) lost (${describeRanges(s.damaged.slice(0, 20))}${s.damaged.length > 20 ? ', ...' : ''}); ${what}`,
    );
  }
  for (const id of r.unreadable) lines.push(`  snapshot object ${id} does not read: nothing says what it held; \`snapfleet forget ${id}\` removes it`);
  return lines.join('\n') + '\n';
}

export function registerRepair(program: Command, ctx: CliContext): void {
  const repair = program.command('repair').description('recover from damage that verify found: repair index, then packs, then snapshots');

  withFleetAuditOptions(
    withRepoOptions(
      repair.command('index').description("rebuild the index from the packs' own headers; drop packs that are gone; replace damaged index objects"),
    ),
  ).action(async (opts: RepoOptions & FleetAuditOptions) => {
    const audit = await repositoryAudit(ctx, opts, 'repair-index', 'repair index');
    const repo = await openRepo(opts, ctx);
    const report = await audit.run(repo, async (note) => {
      const r = await repairIndex(repo, leaseOptions(ctx));
      note({
        adoptedPacks: r.adoptedPacks,
        droppedPacks: r.droppedPacks.length,
        replacedObjects: r.damagedObjects.length,
        deletedObjects: r.deletedObjects.length,
      });
      return r;
    });
    ctx.stdout.write(opts.json ? JSON.stringify(report) + '\n' : describeIndex(report, repoUrl(opts, ctx)));
  });

  withFleetAuditOptions(
    withRepoOptions(repair.command('packs').description('salvage what still reads of damaged packs into new packs, then remove them'))
      .argument('[pack...]', 'pack ids (default: the damaged packs verify recorded)')
      .option('--from <repo>', "a replica sharing this repository's id key (made with `copy`): blobs that do not read here are copied from it")
      .option('--from-password-file <file>', "with --from: read the replica's password from a file (default: $SNAPFLEET_FROM_PASSWORD)"),
  ).action(async (packIds: string[], opts: PackRepairFlags) => {
    for (const id of packIds) if (!HEX64.test(id)) throw new InvalidInputError(`"${id}" is not a pack id (64 hex digits)`, 'pack');
    if (opts.fromPasswordFile && !opts.from) throw new InvalidInputError('--from-password-file goes with --from', 'from-password-file');
    const audit = await repositoryAudit(ctx, opts, 'repair-packs', 'repair packs');
    const repo = await openRepo(opts, ctx);
    const replica = opts.from ? await openSourceRepo(opts.from, opts.fromPasswordFile, ctx) : undefined;
    const pool = createThreadCodecPool(repo.keys);
    const replicaPool = replica ? createThreadCodecPool(replica.keys) : undefined;
    try {
      const report = await audit.run(repo, async (note) => {
        note({ fromReplica: replica !== undefined });
        const r = await repairPacks(repo, pool, {
          ...leaseOptions(ctx),
          ...(packIds.length ? { packIds } : {}),
          ...(replica ? { replica: { repo: replica, pool: replicaPool! } } : {}),
        });
        note({ packs: r.packs.length, salvagedBlobs: r.salvagedBlobs, lostBlobs: r.lostBlobs, newPacks: r.newPacks });
        return r;
      });
      ctx.stdout.write(opts.json ? JSON.stringify(report) + '\n' : describePacks(report));
    } finally {
      await pool.close();
      await replicaPool?.close();
    }
  });

  withFleetAuditOptions(
    withRepoOptions(
      repair.command('snapshots').description('rewrite snapshots whose blocks are lost, the lost blocks declared (originals kept unless --forget)'),
    )
      .argument('[snapshot...]', 'full snapshot ids (default: every snapshot)')
      .option('--forget', 'forget each original once its repaired copy is stored')
      .option('-n, --dry-run', 'say what would be repaired; store nothing')
      .option('--volume-id <id>', "only this volume's snapshots")
      .option(
        '--from-volume <path>',
        'with --volume-id: an image or device holding the volume now; lost blocks still there (same content, checked against their ids) are stored again instead of declared lost',
      )
      .option(
        '-c, --config <file>',
        "a fleet config whose provider still has the snapshots archives were taken from (EBS): lost blocks are read back from there (the repair is also recorded in that fleet's audit log)",
      ),
    { config: false },
  ).action(async (ids: string[], opts: SnapshotRepairFlags) => {
    for (const id of ids) if (!HEX64.test(id)) throw new InvalidInputError(`"${id}" is not a full snapshot id (64 hex digits)`, 'snapshot');
    if (opts.fromVolume && opts.config) throw new InvalidInputError('--from-volume and --config both say where blocks come from: give one', 'from-volume');
    const blocksFrom = await blockSources(opts, ctx);
    const audit = await repositoryAudit(ctx, opts, 'repair-snapshots', 'repair snapshots');
    const repo = await openRepo(opts, ctx);
    const scope = opts.volumeId ? (await repo.listVolumeSnapshots(opts.volumeId)).map((e) => e.id) : [];
    if (opts.volumeId && ids.some((id) => !scope.includes(id))) throw new InvalidInputError(`a snapshot given is not of volume ${opts.volumeId}`, 'snapshot');
    const snapshotIds = ids.length ? ids : opts.volumeId ? scope : undefined;
    const pool = createThreadCodecPool(repo.keys);
    try {
      const report = await audit.run(
        repo,
        async (note) => {
          const r = await repairSnapshots(repo, pool, {
            ...leaseOptions(ctx),
            ...(snapshotIds ? { snapshotIds } : {}),
            ...(blocksFrom ? { blocksFrom } : {}),
            forget: opts.forget ?? false,
            dryRun: opts.dryRun ?? false,
          });
          note({
            checked: r.checked,
            repaired: r.repaired.length,
            forgotten: r.repaired.filter((x) => x.forgotten).length,
            recoveredChunks: r.recoveredChunks,
          });
          return r;
        },
        { record: !opts.dryRun },
      );
      ctx.stdout.write(opts.json ? JSON.stringify(report) + '\n' : describeSnapshots(report, opts.dryRun ?? false));
    } finally {
      await pool.close();
    }
  });
}
