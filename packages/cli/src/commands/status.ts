/**
 * `snapfleet status --config FILE [--json]`: the fleet at a glance: job counts per queue, the
 * latest failed jobs with their reasons, and RPO compliance per policy and volume, worst first.
 * A volume's newest archive is read from the repositories themselves (what was stored, not what
 * the queue believes), its newest provider snapshot and last error from the fleet's records, and
 * the volumes each policy covers from a fresh discovery.
 */
import type { Command } from 'commander';
import { Queue } from 'bullmq';
import { QUEUE, fleetQueueNames, policyTag } from '@snapfleet/shared/jobs';
import { formatAge, isOrphan, type VolumeCompliance, type VolumeRecord } from '@snapfleet/shared/compliance';
import { createRetentionGuardStore, type HeldChange } from '@snapfleet/providers/fleet';
import { createFleetRepositories } from '@snapfleet/worker';
import { storeWarning, type CliContext } from '../context.js';
import { complianceView, type FirstHand } from '../compliance-view.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import { fleetPrefix, withFleetOptions, type FleetOptions } from '../fleet/fleet-options.js';
import { fleetProvider } from '../fleet/fleet-provider.js';
import { redisConnection } from '../fleet/fleet-redis.js';

/** Failed jobs listed per queue: the newest few say what is wrong; the board shows the rest. */
const FAILED_SHOWN = 10;

function age(seconds: number | undefined): string {
  return seconds === undefined ? 'never' : formatAge(seconds);
}

export function registerStatus(program: Command, ctx: CliContext): void {
  withFleetOptions(program.command('status').description('queues, failed jobs and RPO compliance of every volume, worst first'))
    .option('--json', 'machine-readable output')
    .action(async (opts: FleetOptions & { json?: boolean }) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const connector = redisConnection(ctx, config);
      const prefix = fleetPrefix(opts, config, connector);
      const connection = connector.bullmq('producer');
      const queues: Record<string, Record<string, number>> = {};
      const failed: { queue: string; jobId: string; reason: string; finishedAt?: string }[] = [];
      // The alert queue is not work; a region's queues are, with fleet.routing.byRegion.
      for (const name of fleetQueueNames(config).filter((n) => n !== QUEUE.alert)) {
        const q = new Queue(name, { connection, prefix, skipMetasUpdate: true });
        try {
          queues[name] = await q.getJobCounts();
          for (const j of await q.getFailed(0, FAILED_SHOWN - 1)) {
            failed.push({
              queue: name,
              jobId: j.id ?? '?',
              reason: j.failedReason,
              ...(j.finishedOn ? { finishedAt: new Date(j.finishedOn).toISOString() } : {}),
            });
          }
        } finally {
          await q.close();
        }
      }
      const now = ctx.clock.now();
      const firstHand: FirstHand = { covered: new Map(), archives: [] };
      const problems: { policy: string; error: string }[] = [];
      const repos = createFleetRepositories({
        repositories: config.repositories,
        env: ctx.env,
        clock: ctx.clock,
        codecThreads: 1,
        onWarning: storeWarning(ctx),
      });
      const provider = fleetProvider(config);
      try {
        for (const p of config.policies) {
          try {
            firstHand.covered.set(
              p.name,
              (await provider.discover(p.selector)).map((v) => v.id),
            );
          } catch (err) {
            problems.push({ policy: p.name, error: `discovery: ${(err as Error).message}` });
          }
          try {
            const entries = await (await repos.open(p.repository)).repo.listSnapshots();
            const newest = new Map<string, VolumeRecord>();
            for (const e of entries) {
              if (!e.snapshot.tags.includes(policyTag(p.name))) continue;
              const prev = newest.get(e.snapshot.volumeId)?.lastArchive;
              if (!prev || Date.parse(e.snapshot.time) > Date.parse(prev.time)) {
                newest.set(e.snapshot.volumeId, { policy: p.name, volumeId: e.snapshot.volumeId, lastArchive: { time: e.snapshot.time, id: e.id } });
              }
            }
            // Covered volumes without any archive: the repository says so, whatever was recorded.
            for (const v of firstHand.covered.get(p.name) ?? []) if (!newest.has(v)) newest.set(v, { policy: p.name, volumeId: v });
            firstHand.archives.push(...newest.values());
          } catch (err) {
            problems.push({ policy: p.name, error: `repository ${p.repository}: ${(err as Error).message}` });
          }
        }
      } finally {
        await repos.close();
      }
      const redis = connector.client();
      let view;
      let held: HeldChange[];
      try {
        view = await complianceView(redis, prefix, config, now, firstHand);
        held = await createRetentionGuardStore(redis, prefix).listHeld();
      } finally {
        redis.disconnect();
        await connector.close();
      }
      if (opts.json) {
        ctx.stdout.write(
          JSON.stringify({ prefix, now: now.toISOString(), queues, failed, policies: view.policies, volumes: view.volumes, retentionHeld: held, problems }) +
            '\n',
        );
        return;
      }
      const lines = [`fleet ${prefix}`, 'queue      waiting  active  delayed  children  completed  failed'];
      for (const [name, c] of Object.entries(queues)) {
        lines.push(
          `${name.padEnd(10)} ${String((c.waiting ?? 0) + (c.prioritized ?? 0)).padStart(7)} ${String(c.active ?? 0).padStart(7)} ${String(c.delayed ?? 0).padStart(8)} ${String(c['waiting-children'] ?? 0).padStart(9)} ${String(c.completed ?? 0).padStart(10)} ${String(c.failed ?? 0).padStart(7)}`,
        );
      }
      if (failed.length) {
        lines.push('', 'failed jobs:');
        for (const f of failed) lines.push(`  ${f.queue}/${f.jobId}: ${f.reason}`);
      }
      if (problems.length) {
        lines.push('', 'could not check:');
        for (const p of problems) lines.push(`  ${p.policy}: ${p.error}`);
      }
      if (held.length) {
        lines.push(
          '',
          `retention changes held (they would delete more than ${(config.retentionGuard.maxShare * 100).toFixed(0)}% of a volume's snapshots; snapfleet retention confirm):`,
        );
        for (const h of held)
          lines.push(
            `  ${h.subject}: ${h.policy}/${h.volumeId} ${h.tier} tier: ${h.extra} more of ${h.total} snapshots (${(h.share * 100).toFixed(0)}%) since ${h.at}`,
          );
      }
      lines.push('', 'policies (RPO: volumes, breached, never backed up, pending first backup, gone):');
      for (const p of view.policies)
        lines.push(
          `  ${p.policy}: RPO ${age(p.rpoSeconds)}: ${p.volumes} volumes, ${p.breached} breached, ${p.never} never, ${p.pending} pending, ${p.gone} gone`,
        );
      lines.push('', 'volumes, worst first (state, age of the newest recovery point / RPO):');
      for (const v of view.volumes) lines.push(`  ${volumeLine(v)}`);
      ctx.stdout.write(lines.join('\n') + '\n');
    });
}

function volumeLine(v: VolumeCompliance): string {
  const point = v.recoveryPoint
    ? `${age(v.ageSeconds)} / ${v.rpoSeconds !== undefined ? age(v.rpoSeconds) : '-'} (${v.recoveryPoint.time}${v.recoveryPoint.id ? `, ${v.recoveryPoint === v.lastArchive ? 'archive' : 'snapshot'} ${v.recoveryPoint.id.slice(0, 12)}` : ''})`
    : `no recovery point${v.coveredSince ? ` (covered since ${v.coveredSince}, RPO ${v.rpoSeconds !== undefined ? age(v.rpoSeconds) : '-'})` : ''}`;
  const error = v.lastError ? `; last error (${v.lastError.queue}, ${v.lastError.at}): ${v.lastError.message}` : '';
  const d = v.lastDrill;
  const drill = d ? `; last drill ${d.at}: ${d.ok ? `passed, restored in ${d.rtoSeconds?.toFixed(1)}s` : `FAILED: ${d.message ?? ''}`}` : '';
  const orphan = isOrphan(v) ? (v.orphanRuleFrom ? `; orphans rule applies from ${v.orphanRuleFrom}` : '; snapshots kept (no orphans rule)') : '';
  return `${v.state.toUpperCase().padEnd(8)} ${v.policy}/${v.volumeId}: ${point}${error}${drill}${orphan}`;
}
