/**
 * `snapfleet status --config FILE [--json]`: the fleet at a glance: job counts per queue, the
 * latest failed jobs with their reasons, and per volume the age of its last backup, read from
 * the repositories themselves (what was stored, not what the queue believes).
 */
import type { Command } from 'commander';
import { Queue } from 'bullmq';
import { producerConnection } from '@snapfleet/planner';
import { QUEUE, WORK_QUEUES, policyTag } from '@snapfleet/shared/jobs';
import { createFleetRepositories } from '@snapfleet/worker';
import { storeWarning, type CliContext } from '../context.js';
import { fleetPrefix, fleetProvider, loadFleetConfig, redisConnection, withFleetOptions, type FleetOptions } from './fleet-common.js';

/** Failed jobs listed per queue: the newest few say what is wrong; the board shows the rest. */
const FAILED_SHOWN = 10;

interface VolumeStatus {
  policy: string;
  volumeId: string;
  lastSnapshot?: string;
  lastBackup?: string;
  ageSeconds?: number;
  error?: string;
}

function age(seconds: number | undefined): string {
  if (seconds === undefined) return 'never';
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export function registerStatus(program: Command, ctx: CliContext): void {
  withFleetOptions(program.command('status').description('queues, failed jobs and the age of each volume\'s last backup'))
    .option('--json', 'machine-readable output')
    .action(async (opts: FleetOptions & { json?: boolean }) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const prefix = fleetPrefix(opts, config);
      const connection = producerConnection(redisConnection(ctx));
      const queues: Record<string, Record<string, number>> = {};
      const failed: { queue: string; jobId: string; reason: string; finishedAt?: string }[] = [];
      for (const name of [QUEUE.tick, ...WORK_QUEUES]) {
        const q = new Queue(name, { connection, prefix });
        try {
          queues[name] = await q.getJobCounts();
          for (const j of await q.getFailed(0, FAILED_SHOWN - 1)) {
            failed.push({ queue: name, jobId: j.id ?? '?', reason: j.failedReason, ...(j.finishedOn ? { finishedAt: new Date(j.finishedOn).toISOString() } : {}) });
          }
        } finally {
          await q.close();
        }
      }
      const repos = createFleetRepositories({ repositories: config.repositories, env: ctx.env, clock: ctx.clock, codecThreads: 1, onWarning: storeWarning(ctx) });
      const volumes: VolumeStatus[] = [];
      const provider = fleetProvider(config);
      const now = ctx.clock.now().getTime();
      try {
        for (const p of config.policies) {
          let entries;
          try {
            entries = await (await repos.open(p.repository)).repo.listSnapshots();
          } catch (err) {
            volumes.push({ policy: p.name, volumeId: '*', error: `repository ${p.repository}: ${(err as Error).message}` });
            continue;
          }
          for (const v of await provider.discover(p.selector)) {
            const last = entries.filter((e) => e.snapshot.volumeId === v.id && e.snapshot.tags.includes(policyTag(p.name))).at(-1);
            volumes.push({ policy: p.name, volumeId: v.id, ...(last ? { lastSnapshot: last.id, lastBackup: last.snapshot.time, ageSeconds: (now - Date.parse(last.snapshot.time)) / 1000 } : {}) });
          }
        }
      } finally {
        await repos.close();
      }
      if (opts.json) {
        ctx.stdout.write(JSON.stringify({ prefix, queues, failed, volumes }) + '\n');
        return;
      }
      const lines = [`fleet ${prefix}`, 'queue      waiting  active  delayed  children  completed  failed'];
      for (const [name, c] of Object.entries(queues)) {
        lines.push(`${name.padEnd(10)} ${String((c.waiting ?? 0) + (c.prioritized ?? 0)).padStart(7)} ${String(c.active ?? 0).padStart(7)} ${String(c.delayed ?? 0).padStart(8)} ${String(c['waiting-children'] ?? 0).padStart(9)} ${String(c.completed ?? 0).padStart(10)} ${String(c.failed ?? 0).padStart(7)}`);
      }
      if (failed.length) {
        lines.push('', 'failed jobs:');
        for (const f of failed) lines.push(`  ${f.queue}/${f.jobId}: ${f.reason}`);
      }
      lines.push('', 'volumes (last backup):');
      for (const v of volumes) lines.push(`  ${v.policy}/${v.volumeId}: ${v.error ?? (v.lastBackup ? `${age(v.ageSeconds)} ago (${v.lastBackup}, snapshot ${v.lastSnapshot!.slice(0, 8)})` : 'never')}`);
      ctx.stdout.write(lines.join('\n') + '\n');
    });
}
