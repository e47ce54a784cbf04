/**
 * What `snapfleet plan` estimates from, gathered at the edge: each policy's volumes from a fresh
 * discovery (their sizes), each repository's own snapshot stats (how the volumes change and store,
 * and its pack storage class), and the rate limits and prices of the config. A repository that
 * cannot be opened (unreachable, no password here) is not an error: its volumes get the price
 * table's assumptions, and the result says why.
 */
import type { PackStorageClass, VolumeProvider } from '@snapfleet/shared';
import type { AwsProviderConfig, FleetConfig, PolicyConfig } from '@snapfleet/shared/config';
import {
  defaultPricing,
  measureVolumeRates,
  storedBytesOf,
  type ArchivedSnapshotStats,
  type AwsRateLimits,
  type JobRateLimits,
  type PolicyCostInput,
} from '@snapfleet/shared/cost';
import type { FleetRepositories } from '@snapfleet/worker';

/** What one repository tells the estimate, or why it could not. */
export type RepositoryFacts =
  { opened: true; storageClass: PackStorageClass; byVolume: Map<string, ArchivedSnapshotStats[]> } | { opened: false; error: string };

export interface PolicyPlanInput {
  input: PolicyCostInput;
  /** Bytes the repository stored for the covered volumes' snapshots it has (their stats' sum); absent when it did not open. */
  repositoryStoredBytes?: number;
  /** Why the input is less than first-hand (the repository did not open). */
  notes: string[];
}

/** Opens each repository at most once, however many policies use it. */
export function repositoryFactsReader(repos: FleetRepositories): (name: string) => Promise<RepositoryFacts> {
  const cache = new Map<string, Promise<RepositoryFacts>>();
  return (name) => {
    let facts = cache.get(name);
    if (!facts) {
      facts = readRepositoryFacts(repos, name);
      cache.set(name, facts);
    }
    return facts;
  };
}

async function readRepositoryFacts(repos: FleetRepositories, name: string): Promise<RepositoryFacts> {
  try {
    const { repo } = await repos.open(name);
    const entries = await repo.listSnapshots();
    const timeOf = new Map(entries.map((e) => [e.id, Date.parse(e.snapshot.time)]));
    const byVolume = new Map<string, ArchivedSnapshotStats[]>();
    for (const { snapshot: s } of entries) {
      const list = byVolume.get(s.volumeId) ?? [];
      list.push({
        time: Date.parse(s.time),
        parentTime: s.parent ? timeOf.get(s.parent) : undefined,
        sizeBytes: s.sizeBytes,
        chunkSize: s.chunkSize,
        stats: s.stats,
      });
      byVolume.set(s.volumeId, list);
    }
    return { opened: true, storageClass: repo.config.packStorageClass ?? 'STANDARD', byVolume };
  } catch (err) {
    return { opened: false, error: (err as Error).message };
  }
}

/** The estimate's input for one policy: discovery now, the repository's facts, the config's limits and prices. */
export async function policyPlanInput(
  config: FleetConfig,
  policy: PolicyConfig,
  provider: VolumeProvider,
  facts: RepositoryFacts,
  now: Date,
): Promise<PolicyPlanInput> {
  const discovered = await provider.discover(policy.selector);
  const settings = config.repositories[policy.repository]!;
  const notes: string[] = [];
  if (!facts.opened) {
    notes.push(`repository ${policy.repository} could not be opened (${facts.error}): every volume is estimated with the assumptions, packs as STANDARD`);
  }
  if (config.provider.kind === 'aws' && config.provider.copies.length) {
    notes.push(`snapshot copies to ${config.provider.copies.map((c) => c.region).join(', ')} are not priced`);
  }
  if (policy.replicate) notes.push(`replication into repository ${policy.replicate.repository} is not priced`);
  const history = (id: string) => (facts.opened ? (facts.byVolume.get(id) ?? []) : []);
  const input: PolicyCostInput = {
    policy: policy.name,
    volumes: discovered.map((v) => ({ id: v.id, sizeBytes: v.sizeBytes, measured: measureVolumeRates(history(v.id)) })),
    schedules: policy.schedules,
    retention: policy.retention,
    now,
    pricing: config.pricing ?? defaultPricing(),
    repository: { s3: settings.url.startsWith('s3://'), storageClass: facts.opened ? facts.storageClass : 'STANDARD', packSizeMiB: settings.packSizeMiB },
    aws: config.provider.kind === 'aws' ? awsRateLimits(config.provider) : undefined,
    jobLimits: jobRateLimits(config, policy),
  };
  const stored = facts.opened ? discovered.reduce((n, v) => n + storedBytesOf(history(v.id)), 0) : undefined;
  return { input, notes, ...(stored !== undefined ? { repositoryStoredBytes: stored } : {}) };
}

/**
 * The API budgets a run is timed against. Discovery does not say which region a volume is in, so
 * a fleet in several regions is timed as if all its volumes shared the slowest region's budget.
 */
export function awsRateLimits(provider: AwsProviderConfig): AwsRateLimits {
  const slowest = (field: keyof AwsRateLimits) => Math.min(...provider.regions.map((r) => provider.regionLimits[r]?.[field] ?? provider.limits[field]));
  return {
    ebsBlockRequestsPerSecond: slowest('ebsBlockRequestsPerSecond'),
    ebsBlockRequestsPerSnapshotPerSecond: slowest('ebsBlockRequestsPerSnapshotPerSecond'),
    ebsListRequestsPerSecond: slowest('ebsListRequestsPerSecond'),
    ec2MutatingRequestsPerSecond: slowest('ec2MutatingRequestsPerSecond'),
  };
}

function jobRateLimits(config: FleetConfig, policy: PolicyConfig): JobRateLimits {
  const queue = (name: 'archive' | 'snapshot') => {
    const limit = config.fleet.queues[name]?.rateLimit;
    return limit ? { max: limit.max, perMs: limit.per } : undefined;
  };
  return {
    policy: policy.rateLimit ? { max: policy.rateLimit.max, perMs: policy.rateLimit.duration } : undefined,
    archiveQueue: queue('archive'),
    snapshotQueue: queue('snapshot'),
  };
}
