/**
 * What processors are built over (STYLE 8: factories over ports). Nothing here constructs a
 * client; the composition root passes them in.
 */
import type { Job } from 'bullmq';
import type { Clock, ProcessIdentity, VolumeProvider } from '@snapfleet/shared';
import type { FleetConfig, PolicyConfig } from '@snapfleet/shared/config';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import { PermanentError } from '@snapfleet/shared';
import type { FleetRepositories } from '../fleet-repositories.js';
import type { FleetMetrics } from '../fleet-metrics.js';
import type { LockService } from '../stage-lock.js';
import type { JobChain } from '../job-chain.js';

export type Processor = (job: Job, token?: string) => Promise<unknown>;

export interface ProcessorDeps {
  /**
   * The running configuration and provider. A reload (SIGHUP) replaces them between jobs, so a
   * processor reads each once, at the start of a job, and uses that for the whole job.
   */
  readonly config: FleetConfig;
  readonly provider: VolumeProvider;
  repositories: FleetRepositories;
  clock: Clock;
  log: FleetLogger;
  metrics: FleetMetrics;
  locks: LockService;
  hostname?: string;
  /** This process, for prune leases (a prune that died on this machine is taken over at once). */
  identity?: ProcessIdentity;
  /** Adds each volume's next job (job-chain.ts). @defaultValue none added (a processor tested alone) */
  chain?: JobChain;
}

export function policyNamed(config: FleetConfig, name: string): PolicyConfig {
  const p = config.policies.find((x) => x.name === name);
  if (!p) throw new PermanentError(`policy ${name} is not in this worker's configuration (is the worker's config out of date?)`);
  return p;
}
