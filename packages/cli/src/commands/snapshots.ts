/** `snapfleet snapshots`: lists snapshots, oldest first, as a table or JSON. */
import type { Command } from 'commander';
import type { Snapshot } from '@snapfleet/shared';
import { damagedWarning, type CliContext, type RepoOptions } from '../context.js';
import { openRepo } from '../repository-access.js';
import { withRepoOptions } from './common.js';

interface SnapshotsOptions extends RepoOptions {
  volumeId?: string;
}

export function registerSnapshots(program: Command, ctx: CliContext): void {
  withRepoOptions(program.command('snapshots').description('list snapshots'))
    .option('--volume-id <id>', "only this volume's snapshots")
    .action(async (opts: SnapshotsOptions) => {
      const repo = await openRepo(opts, ctx);
      const listing = { onDamaged: damagedWarning(ctx) };
      const entries = opts.volumeId ? await repo.listVolumeSnapshots(opts.volumeId, listing) : await repo.listSnapshots(listing);
      if (opts.json) {
        ctx.stdout.write(JSON.stringify(entries.map((e) => ({ id: e.id, ...e.snapshot }))) + '\n');
        return;
      }
      const rows = entries.map((e) => [
        e.id.slice(0, 8),
        e.snapshot.time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''),
        e.snapshot.volumeId,
        `${(e.snapshot.sizeBytes / 2 ** 30).toFixed(2)} GiB`,
        e.snapshot.tags.join(','),
        lostBlocks(e.snapshot),
      ]);
      const head = ['ID', 'Time (UTC)', 'Volume', 'Size', 'Tags', 'Damaged'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (r: string[]) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd() + '\n';
      ctx.stdout.write(line(head) + line(widths.map((w) => '-'.repeat(w))) + rows.map(line).join('') + `${entries.length} snapshot(s)\n`);
    });
}

/** A repaired snapshot's lost blocks (restored as zeros); empty for a whole one. */
function lostBlocks(s: Snapshot): string {
  if (!s.damaged?.length) return '';
  return `${s.damaged.reduce((n, r) => n + r[1], 0)} block(s)`;
}
