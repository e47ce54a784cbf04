/**
 * Restore drills (`drill` jobs on the verify queue, from the planner's per-policy job
 * schedulers): orders the policy's volumes (shared/compliance/drill-selection.ts: never drilled
 * first, then by the time since the last drill), lists the snapshots of the first ones only, and
 * restores a random one of each of `volumes` of them to a scratch target (drill-scratch.ts: a
 * file, a device, or the provider's copy), checks every block read back against the manifest
 * (engine/drill.ts), deletes what was created for it, and records the outcome and the restore
 * time (RTO) with the fleet's compliance records. A failed drill alerts (`drill-failed`) and
 * fails the job, so it shows in the queue too.
 */
import type { Job } from 'bullmq';
import { drillSnapshot, PermanentError, type ScratchTarget } from '@snapfleet/shared';
import { drillOrder, pickSnapshot, type DrillCandidate, type DrillResult } from '@snapfleet/shared/compliance';
import { drillJobSchema, policyTag } from '@snapfleet/shared/jobs';
import { readComplianceRecords, type ComplianceRecorder } from '@snapfleet/providers/fleet';
import type { Redis } from 'ioredis';
import { parsePayload } from '../job-errors.js';
import type { AlertOutbox } from '../alerts/alert-outbox.js';
import { policyNamed, type Processor, type ProcessorDeps } from './processor-deps.js';
import { openScratch, sweepScratch } from './drill-scratch.js';

export interface DrillDeps extends Pick<ProcessorDeps, 'config' | 'provider' | 'repositories' | 'clock' | 'log'> {
  redis: Redis;
  prefix: string;
  recorder: ComplianceRecorder;
  alerts: AlertOutbox;
  /** @defaultValue Math.random */
  random?: () => number;
}

export interface DrillOutcome extends DrillResult {
  volumeId: string;
  checkedChunks?: number;
}

export function createDrillProcessor(deps: DrillDeps): Processor {
  return async (job: Job) => {
    const data = parsePayload(drillJobSchema, job.data, 'drill');
    const config = deps.config;
    const provider = deps.provider;
    const policy = policyNamed(config, data.policy);
    if (!policy.drill) return { policy: policy.name, skipped: 'the policy has no drill' };
    const drill = { name: policy.name, drill: policy.drill };
    await sweepScratch(drill, provider, deps.clock, deps.log);
    const { repo, pool } = await deps.repositories.open(policy.repository);
    const tag = policyTag(policy.name);
    // The volumes to choose from: those the policy covered at its latest discovery and those the
    // fleet recorded under it. Snapshots are listed only for the volumes tried, in drill order.
    const recorded = await readComplianceRecords(deps.redis, deps.prefix, [policy.name]);
    const mine = recorded.records.filter((r) => r.policy === policy.name);
    const lastDrill = new Map(mine.filter((r) => r.lastDrill).map((r) => [r.volumeId, r.lastDrill!.at]));
    const volumeIds = new Set([...(recorded.covered.get(policy.name)?.since.keys() ?? []), ...mine.map((r) => r.volumeId)]);
    const candidates: DrillCandidate[] = [...volumeIds].map((volumeId) => ({
      volumeId,
      ...(lastDrill.has(volumeId) ? { lastDrillAt: lastDrill.get(volumeId)! } : {}),
    }));
    const random = deps.random ?? Math.random;
    const outcomes: DrillOutcome[] = [];
    for (const volumeId of drillOrder(candidates, deps.clock.now(), random)) {
      if (outcomes.length >= policy.drill.volumes) break;
      const entry = pickSnapshot(
        (await repo.listVolumeSnapshots(volumeId)).filter((e) => e.snapshot.tags.includes(tag)),
        random,
      );
      if (!entry) continue; // nothing archived under the policy yet
      const at = deps.clock.now().toISOString();
      let outcome: DrillOutcome;
      let scratch: ScratchTarget | undefined;
      try {
        scratch = await openScratch(drill, entry, { config, provider });
        const report = await drillSnapshot(repo, pool, entry, { target: scratch.target, readBack: () => scratch!.readBack(), clock: deps.clock });
        outcome = {
          volumeId: volumeId,
          at,
          snapshotId: entry.id,
          ok: report.ok,
          rtoSeconds: report.restoreSeconds,
          checkedChunks: report.check.chunks,
          ...(report.ok
            ? {}
            : {
                message: `${report.check.mismatched} of ${report.check.chunks} chunks read back differ from the snapshot (first at byte ${report.check.firstMismatchAt})`,
              }),
        };
      } catch (err) {
        outcome = { volumeId: volumeId, at, snapshotId: entry.id, ok: false, message: (err as Error).message.slice(0, 1500) };
      }
      // Deleted failed or not; what cannot be deleted fails the drill: it costs until someone acts.
      try {
        await scratch?.dispose();
      } catch (err) {
        const left = (err as Error).message;
        outcome = {
          ...outcome,
          ok: false,
          message: `${outcome.ok ? 'the restore and its check passed, but ' : `${outcome.message ?? ''}; and `}${left}`.slice(0, 1500),
        };
      }
      const { volumeId: _volume, checkedChunks: _checked, ...result } = outcome;
      await deps.recorder.drilled(policy.name, volumeId, result);
      deps.log[outcome.ok ? 'info' : 'error'](
        { jobId: job.id, policy: policy.name, volume: volumeId, snapshot: entry.id, rtoSeconds: outcome.rtoSeconds, err: outcome.message },
        outcome.ok ? 'drill passed' : 'drill failed',
      );
      if (!outcome.ok) {
        const summary = `restore drill of ${policy.name}/${volumeId} (snapshot ${entry.id.slice(0, 12)}) failed: ${outcome.message}`;
        await deps.alerts
          .send(
            {
              event: 'drill-failed',
              at,
              summary: summary.slice(0, 2000),
              policy: policy.name,
              volumeId,
              repository: policy.repository,
              details: { snapshotId: entry.id },
            },
            JSON.stringify(['drill', policy.name, volumeId]),
          )
          .catch((err: Error) => deps.log.warn({ err: err.message }, 'could not enqueue a drill-failed alert'));
      }
      outcomes.push(outcome);
    }
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length > 0)
      throw new PermanentError(
        `${failed.length} of ${outcomes.length} restore drill(s) of policy ${policy.name} failed; first: ${failed[0]!.volumeId}: ${failed[0]!.message}`,
      );
    return { policy: policy.name, drills: outcomes };
  };
}
