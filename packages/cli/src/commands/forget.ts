/**
 * `snapfleet forget`: removes snapshots by retention rules (restic's flag names and semantics,
 * docs/retention.md) or by id, per volume; `--prune` then collects the garbage.
 */
import type { Command } from 'commander';
import { InvalidInputError, NotFoundError, planForget, removeSnapshots, type Repository, type SnapshotEntry, type VolumeForgetPlan } from '@snapfleet/shared';
import { parseRetentionRules, type RetentionRules } from '@snapfleet/shared/retention';
import { damagedWarning, type CliContext, type RepoOptions } from '../context.js';
import { openRepo } from '../repository-access.js';
import { describePrune, pruneDetails, pruneFlags, runPrune, type PruneFlags } from './prune.js';
import { withRepoOptions } from './common.js';
import { repositoryAudit, withFleetAuditOptions, type AuditDetails, type FleetAuditOptions } from '../repository-audit.js';

const COUNT_FLAGS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;
const WITHIN_FLAGS = ['keepWithin', 'keepWithinHourly', 'keepWithinDaily', 'keepWithinWeekly', 'keepWithinMonthly', 'keepWithinYearly'] as const;

type ForgetOptions = RepoOptions &
  PruneFlags &
  FleetAuditOptions & {
    volumeId?: string;
    all?: boolean;
    prune?: boolean;
    keepTag: string[];
    timeZone?: string;
  } & Partial<Record<(typeof COUNT_FLAGS)[number] | (typeof WITHIN_FLAGS)[number], string>>;

const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The rules the flags give, validated; errors name the flag (`--keep-daily`). */
function rulesFromFlags(opts: ForgetOptions): RetentionRules | undefined {
  const input: Record<string, unknown> = {};
  for (const f of COUNT_FLAGS) if (opts[f] !== undefined) input[f] = /^-?\d+$/.test(opts[f]!) ? Number(opts[f]) : opts[f];
  for (const f of WITHIN_FLAGS) if (opts[f] !== undefined) input[f] = opts[f];
  if (opts.keepTag.length > 0) input.keepTags = opts.keepTag;
  if (Object.keys(input).length === 0) return undefined;
  if (opts.timeZone) input.timeZone = opts.timeZone;
  try {
    return parseRetentionRules(input);
  } catch (err) {
    if (err instanceof InvalidInputError && err.field) {
      const flag = kebab(err.field.split('.')[0]!.replace(/^keepTags$/, 'keepTag'));
      throw new InvalidInputError(err.message.replace(err.field, `--${flag}`), flag);
    }
    throw err;
  }
}

/**
 * A snapshot to remove by id. A damaged snapshot object (which listings skip) can be removed by
 * its full id: that is how an operator unblocks prune after checking it. Its volume is unknown,
 * so it is removed by its bare id (every key a listing finds for it).
 */
async function findForRemoval(repo: Repository, id: string, ctx: CliContext): Promise<{ entry: SnapshotEntry; damaged: boolean }> {
  try {
    return { entry: await repo.findSnapshot(id, undefined, damagedWarning(ctx)), damaged: false };
  } catch (err) {
    if (!(err instanceof NotFoundError) || !/^[0-9a-f]{64}$/.test(id) || (await repo.snapshotKeysOf(id)).length === 0) throw err;
    const damaged: SnapshotEntry['snapshot'] = {
      version: 1,
      volumeId: '(damaged)',
      time: new Date(0).toISOString(),
      tags: [],
      sizeBytes: 0,
      chunkSize: repo.chunkSize,
      tree: { root: '0'.repeat(64), height: 1 },
      stats: { readBytes: 0, newBlobs: 0, newBytes: 0, storedBytes: 0, holeChunks: 0, changedBlocksOnly: false },
    };
    return { entry: { id, snapshot: damaged }, damaged: true };
  }
}

function table(plans: VolumeForgetPlan[]): string {
  const out: string[] = [];
  for (const p of plans) {
    out.push(`volume ${p.volumeId}: keep ${p.keep.length}, remove ${p.remove.length}`);
    for (const k of p.keep) out.push(`  keep    ${k.entry.id.slice(0, 8)}  ${k.entry.snapshot.time}  ${k.reasons.join(', ')}`);
    for (const r of p.remove) out.push(`  remove  ${r.id.slice(0, 8)}  ${r.snapshot.time}`);
  }
  return out.join('\n') + '\n';
}

/** Plans, removes and (with --prune) collects; `note` gathers the audit entry's details as it goes. */
async function forget(
  repo: Repository,
  ids: string[],
  rules: RetentionRules | undefined,
  opts: ForgetOptions,
  ctx: CliContext,
  note: (d: AuditDetails) => void,
): Promise<void> {
  note(rules ? (opts.all ? { volumes: 'all' } : { volumeId: opts.volumeId! }) : { byId: ids.length });
  let plans: VolumeForgetPlan[];
  const damagedIds = new Set<string>();
  if (rules) {
    const listing = { onDamaged: damagedWarning(ctx) };
    const entries = opts.all ? await repo.listSnapshots(listing) : await repo.listVolumeSnapshots(opts.volumeId!, listing);
    plans = planForget(entries, rules, ctx.clock.now());
  } else {
    const found: SnapshotEntry[] = [];
    for (const id of ids) {
      const { entry, damaged } = await findForRemoval(repo, id, ctx);
      found.push(entry);
      if (damaged) damagedIds.add(entry.id);
    }
    plans = [{ volumeId: '(by id)', keep: [], remove: found }];
  }
  const removed = plans.flatMap((p) => p.remove);
  const removeIds = removed.map((e) => e.id);
  // Text: the decisions first and each removal as it is done, so that a run killed midway
  // leaves a record of what it removed. JSON stays one document, written at the end.
  if (!opts.json) ctx.stdout.write(table(plans));
  let removedCount = 0;
  const onRemoved = (id: string) => {
    note({ removed: ++removedCount });
    if (!opts.json) ctx.stdout.write(`removed ${id}\n`);
  };
  const removal = opts.dryRun
    ? undefined
    : await removeSnapshots(
        repo,
        removed.map((e) => (damagedIds.has(e.id) ? e.id : e)),
        onRemoved,
      );
  note({ removed: removal?.removed.length ?? 0, ...(removal?.retained.length ? { retained: removal.retained.length } : {}) });
  if (!opts.json) {
    for (const r of removal?.retained ?? []) ctx.stdout.write(`kept ${r.id}: under Object Lock retention until ${r.until}\n`);
    ctx.stdout.write(`${opts.dryRun ? 'would remove' : 'removed'} ${removal ? removal.removed.length : removeIds.length} snapshot(s)\n`);
  }
  const prune = opts.prune && !opts.dryRun ? await runPrune(repo, opts, ctx) : undefined;
  // The prune's counts beside the forget's (its `snapshots` is what remains, which the forget entry need not repeat).
  if (prune) {
    const { snapshots: _remaining, ...pruned } = pruneDetails(prune);
    note(pruned);
  }
  if (opts.json) {
    const json = plans.map((p) => ({
      volumeId: p.volumeId,
      keep: p.keep.map((k) => ({ id: k.entry.id, time: k.entry.snapshot.time, reasons: k.reasons })),
      remove: p.remove.map((e) => ({ id: e.id, time: e.snapshot.time })),
    }));
    ctx.stdout.write(
      JSON.stringify({
        dryRun: !!opts.dryRun,
        volumes: json,
        ...(removal?.retained.length ? { retained: removal.retained } : {}),
        ...(prune ? { prune } : {}),
      }) + '\n',
    );
    return;
  }
  if (prune) ctx.stdout.write(describePrune(prune, false));
}

export function registerForget(program: Command, ctx: CliContext): void {
  let cmd = withRepoOptions(
    program
      .command('forget')
      .description('remove snapshots by retention rules or by id')
      .argument('[snapshot...]', 'snapshot ids or unique prefixes to remove'),
  )
    .option('--volume-id <id>', "apply the rules to this volume's snapshots")
    .option('--all', 'apply the rules to every volume, each on its own')
    .option('--keep-tag <tags>', 'keep snapshots with all of these comma-separated tags (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--time-zone <iana>', 'time zone of the calendar buckets (default UTC)')
    .option('--dry-run', 'print what would be removed; change nothing')
    .option('--prune', 'collect the garbage afterwards (as snapfleet prune)');
  for (const f of COUNT_FLAGS) cmd = cmd.option(`--${kebab(f)} <n>`, `keep ${f.slice(4).toLowerCase()} snapshots: a count, or "unlimited"`);
  for (const f of WITHIN_FLAGS) cmd = cmd.option(`--${kebab(f)} <duration>`, 'e.g. 7d, 2w, 1y6m (relative to the newest snapshot)');
  withFleetAuditOptions(pruneFlags(cmd)).action(async (ids: string[], opts: ForgetOptions) => {
    const rules = rulesFromFlags(opts);
    if (ids.length > 0 && (rules || opts.volumeId || opts.all))
      throw new InvalidInputError('give snapshot ids, or rules with --volume-id/--all, not both', 'snapshot');
    if (ids.length === 0 && !rules) throw new InvalidInputError('forget needs at least one --keep-* rule (or snapshot ids)', 'keep-last');
    if (rules && !!opts.volumeId === !!opts.all) throw new InvalidInputError('choose the snapshots: --volume-id ID or --all', 'volume-id');
    const audit = await repositoryAudit(ctx, opts, 'forget', 'forget');
    const repo = await openRepo(opts, ctx);
    // A dry run changes nothing, and reads are not recorded.
    await audit.run(repo, (note) => forget(repo, ids, rules, opts, ctx, note), { record: !opts.dryRun });
  });
}
