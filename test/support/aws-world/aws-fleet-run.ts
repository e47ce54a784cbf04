/**
 * Driving an AWS fleet in the fake world from a test: `snapfleet backup-now` enqueues a tick (its
 * planner discovers the world's volumes through EC2), worker processes started by the test do
 * the work, and the test waits for every flow and reads the archive jobs' results back.
 */
import { describeRun, parseJson, runCli, type CliEnv } from '../cli.js';
import type { Queue } from 'bullmq';
import { stageQueue, type VolumeStage } from '@snapfleet/shared/jobs';
import { openQueue, waitFor } from '../fleet.js';

export interface EnqueuedFlow {
  volumeId: string;
  /** The region whose queues the flow runs in (fleet.routing.byRegion). */
  region?: string;
  snapshotJobId: string;
  archiveJobId: string;
  retentionJobId: string;
}

export interface ArchiveOutcome {
  volumeId: string;
  snapshotId?: string;
  readBytes?: number;
  storedBytes?: number;
  parent?: string;
}

/** Enqueues the policy's volumes for now; returns the flows, sorted by volume. */
export async function backupNow(config: string, policy: string, prefix: string, env: CliEnv): Promise<EnqueuedFlow[]> {
  const r = await runCli(['backup-now', '--config', config, '--policy', policy, '--prefix', prefix, '--json'], env);
  if (r.code !== 0) throw new Error(`backup-now failed\n${describeRun(r)}`);
  return parseJson<{ jobs: EnqueuedFlow[] }>(r).jobs.sort((a, b) => a.volumeId.localeCompare(b.volumeId));
}

/**
 * Waits until every flow's retention job (the root, which runs last) has finished, then returns
 * the archive jobs' results. A failed job fails the wait with its reason.
 */
export async function waitForFlows(prefix: string, flows: EnqueuedFlow[], timeoutMs: number): Promise<ArchiveOutcome[]> {
  const queues = new Map<string, Queue>();
  const queueOf = (stage: VolumeStage, region?: string): Queue => {
    const name = stageQueue(stage, region);
    if (!queues.has(name)) queues.set(name, openQueue(name, prefix));
    return queues.get(name)!;
  };
  try {
    await waitFor(
      `${flows.length} flows to finish`,
      async () => {
        const states = await Promise.all(flows.map((f) => queueOf('retention', f.region).getJobState(f.retentionJobId)));
        const failed = flows.find((_, i) => states[i] === 'failed');
        if (failed) {
          const reasons = await Promise.all([
            queueOf('snapshot', failed.region).getJob(failed.snapshotJobId),
            queueOf('archive', failed.region).getJob(failed.archiveJobId),
            queueOf('retention', failed.region).getJob(failed.retentionJobId),
          ]);
          throw new Error(
            `the flow of ${failed.volumeId} failed: ${reasons
              .map((j) => j?.failedReason)
              .filter(Boolean)
              .join('; ')}`,
          );
        }
        return states.every((s) => s === 'completed');
      },
      timeoutMs,
      250,
    );
    const jobs = await Promise.all(flows.map((f) => queueOf('archive', f.region).getJob(f.archiveJobId)));
    return jobs.map((j, i) => ({ volumeId: flows[i]!.volumeId, ...(j?.returnvalue as Omit<ArchiveOutcome, 'volumeId'>) }));
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close()));
  }
}

/** The fleet config of these tests: one policy over the volumes tagged `backup=daily`. */
export function awsFleetConfig(options: { regions: string[]; repoUrl: string; passwordFile: string; limits?: object; fleet?: object }): object {
  return {
    fleet: { worker: { codecThreads: 1, shutdownTimeout: '10s' }, jobs: { attempts: 3, backoff: '500ms' }, ...options.fleet },
    provider: { kind: 'aws', regions: options.regions, ...(options.limits ? { limits: options.limits } : {}) },
    repositories: { main: { url: options.repoUrl, passwordFile: options.passwordFile } },
    policies: [{ name: 'daily', selector: { tags: ['backup=daily'] }, schedules: [{ every: '1h' }], repository: 'main' }],
  };
}
