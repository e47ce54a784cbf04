/**
 * The cost of one policy per month, line by line, from plain data: the volumes it covers (size,
 * and the rates the repository measured where it could), its schedules and retention, the
 * repository's pack size and storage class, and a price table.
 *
 * The model, per volume of size S, written share w, daily change rate c, stored ratio k:
 * - the blocks that change in d days are S * min(w, c * d): changes on different days are taken to
 *   touch different blocks, so a long gap is an upper bound, never more than the written blocks;
 * - a tier (EBS snapshots, or the repository) holds its oldest kept snapshot whole (S * w) and,
 *   for each newer kept one, the blocks changed since the one before (history.ts simulates which
 *   are kept); the repository holds k times that;
 * - an incremental archive reads the blocks changed since the previous archive and stores k times
 *   that; a first archive reads every written block. Request counts follow (request-model.ts).
 * Monthly requests are one run's requests times the archives a month. Prices are per GB-month
 * (GB = 2^30 bytes) and per request; the result is dollars, unrounded.
 */
import type { Pricing } from '../config/pricing-schema.js';
import type { PackStorageClass } from '../ports/blob-store.js';
import type { RetentionPolicy } from '../retention/policy-schema.js';
import { DAY_MS, MAX_SIMULATED_RUNS, simulateHistory, type CostSchedule, type PolicyHistory, type TierHistory } from './history.js';
import { archiveRequests, type ArchiveRequests } from './request-model.js';
import type { VolumeRates } from './volume-rates.js';
import { windowTime, type AwsRateLimits, type JobRateLimits, type WindowTime } from './window-time.js';

/** AWS bills storage by the GB of 2^30 bytes. */
export const GB = 1024 ** 3;
const MIB = 1024 ** 2;

export interface CostVolume {
  id: string;
  sizeBytes: number;
  /** Rates measured from the repository's snapshots of the volume; any left out are the price table's assumptions. */
  measured?: Partial<VolumeRates> | undefined;
}

export interface CostRepository {
  /** Whether the repository is in S3; a folder repository's storage and requests are not priced. */
  s3: boolean;
  /** The class packs are stored in (the repository's `config`). */
  storageClass: PackStorageClass;
  packSizeMiB: number;
}

export interface PolicyCostInput {
  policy: string;
  volumes: readonly CostVolume[];
  schedules: readonly CostSchedule[];
  retention?: RetentionPolicy | undefined;
  /** The end of the simulated history: the estimate is for the month after it. */
  now: Date;
  pricing: Pricing;
  repository: CostRepository;
  /** The AWS provider's API budgets; absent for a provider without EBS (no snapshot storage, no direct API calls). */
  aws?: AwsRateLimits | undefined;
  jobLimits?: JobRateLimits | undefined;
}

export type CostItem = 'ebs-snapshot-storage' | 'ebs-get-snapshot-block' | 'ebs-list-blocks' | 's3-pack-puts' | 's3-other-puts' | 's3-gets' | 's3-storage';

export interface LineItem {
  item: CostItem;
  quantity: number;
  unit: 'GB-month' | 'requests';
  /** Dollars per unit: per GB-month, or per request. */
  unitPrice: number;
  dollars: number;
}

/** How one rate was come by across the policy's volumes. */
export interface RateUse {
  /** The price table's assumption, used for `assumedVolumes`. */
  assumed: number;
  measuredVolumes: number;
  assumedVolumes: number;
}

/** One scheduled run that archives every volume. */
export interface RunEstimate {
  readBytes: number;
  storedBytes: number;
  requests: ArchiveRequests;
  items: LineItem[];
  dollars: number;
  window: WindowTime;
}

export interface PolicyCostEstimate {
  policy: string;
  /** The region the price table is for. */
  region: string;
  volumes: number;
  totalBytes: number;
  history: PolicyHistory;
  assumptions: Record<keyof VolumeRates, RateUse>;
  repository: CostRepository;
  /** What the snapshot tier (EBS) and the repository hold once the history is in place. */
  ebsSnapshotBytes: number;
  repositoryBytes: number;
  monthly: { items: LineItem[]; dollars: number };
  /** A run in the steady state: each volume reads what changed since its previous archive. */
  incremental: RunEstimate;
  /** The first run, once: each volume reads its written blocks whole. */
  first: RunEstimate;
  notes: string[];
}

/** S3's minimum storage durations: a pack deleted sooner is billed for the rest. */
const MINIMUM_DAYS: Partial<Record<PackStorageClass, number>> = { STANDARD_IA: 30, GLACIER_IR: 90, GLACIER: 90, DEEP_ARCHIVE: 180 };

export function estimatePolicyCost(input: PolicyCostInput): PolicyCostEstimate {
  const { pricing, repository } = input;
  const history = simulateHistory({ schedules: input.schedules, retention: input.retention, now: input.now, historyMonths: pricing.assumptions.historyMonths });
  const volumes = input.volumes.map((v) => ({ v, r: ratesOf(v, pricing.assumptions) }));
  const packBytes = repository.packSizeMiB * MIB;

  const run = (readOf: (v: CostVolume, r: VolumeRates) => number): RunEstimate => {
    const perVolume = volumes.map(({ v, r }) => {
      const read = readOf(v, r);
      return { read, stored: read * r.storedRatio, requests: archiveRequests(read, read * r.storedRatio, packBytes) };
    });
    const requests = sumRequests(perVolume.map((p) => p.requests));
    const items = requestItems(requests, 1, input);
    const window = windowTime(
      { volumes: volumes.length, blocksPerVolume: perVolume.map((p) => p.requests.blocks), lists: requests.lists },
      input.aws,
      input.jobLimits ?? {},
    );
    return {
      readBytes: sum(perVolume.map((p) => p.read)),
      storedBytes: sum(perVolume.map((p) => p.stored)),
      requests,
      items,
      dollars: sum(items.map((i) => i.dollars)),
      window,
    };
  };
  const incremental = run((v, r) => changedBytes(v, r, history.archiveGapDays));
  const first = run((v, r) => v.sizeBytes * r.writtenShare);

  const ebsSnapshotBytes = input.aws ? sum(volumes.map(({ v, r }) => tierBytes(v, r, history.snapshotTier))) : 0;
  const repositoryBytes = sum(volumes.map(({ v, r }) => tierBytes(v, r, history.archiveTier) * r.storedRatio));
  const items: LineItem[] = [];
  if (input.aws) items.push(storageItem('ebs-snapshot-storage', ebsSnapshotBytes, pricing.ebs.snapshotStorageGBMonth));
  items.push(...requestItems(incremental.requests, history.archivesPerMonth, input));
  if (repository.s3) items.push(storageItem('s3-storage', repositoryBytes, pricing.s3.storageGBMonth[repository.storageClass]));

  return {
    policy: input.policy,
    region: pricing.region,
    volumes: volumes.length,
    totalBytes: sum(input.volumes.map((v) => v.sizeBytes)),
    history,
    assumptions: {
      dailyChangeRate: rateUse(input.volumes, 'dailyChangeRate', pricing.assumptions.dailyChangeRate),
      storedRatio: rateUse(input.volumes, 'storedRatio', pricing.assumptions.storedRatio),
      writtenShare: rateUse(input.volumes, 'writtenShare', pricing.assumptions.writtenShare),
    },
    repository,
    ebsSnapshotBytes,
    repositoryBytes,
    monthly: { items, dollars: sum(items.map((i) => i.dollars)) },
    incremental,
    first,
    notes: notesFor(history, input, incremental.window, first.window),
  };
}

function ratesOf(v: CostVolume, assumed: VolumeRates): VolumeRates {
  return {
    dailyChangeRate: v.measured?.dailyChangeRate ?? assumed.dailyChangeRate,
    storedRatio: v.measured?.storedRatio ?? assumed.storedRatio,
    writtenShare: v.measured?.writtenShare ?? assumed.writtenShare,
  };
}

/** Bytes of the volume that change in `days`: never more than its written blocks. */
function changedBytes(v: CostVolume, r: VolumeRates, days: number): number {
  return v.sizeBytes * Math.min(r.writtenShare, r.dailyChangeRate * days);
}

/** What a tier holds of the volume: the oldest kept snapshot whole, then each newer one's changes. */
function tierBytes(v: CostVolume, r: VolumeRates, tier: TierHistory): number {
  if (tier.kept === 0) return 0;
  return v.sizeBytes * r.writtenShare + sum(tier.gapsDays.map((g) => changedBytes(v, r, g)));
}

/** The request line items of `runs` runs of `requests` (a fraction of a run for a month with fewer archives). */
function requestItems(requests: ArchiveRequests, runs: number, input: PolicyCostInput): LineItem[] {
  const { ebs, s3 } = input.pricing;
  const items: LineItem[] = [];
  if (input.aws) {
    items.push(requestItem('ebs-get-snapshot-block', requests.blocks * runs, ebs.getSnapshotBlockPer1000));
    items.push(requestItem('ebs-list-blocks', requests.lists * runs, ebs.listBlocksPer1000));
  }
  if (input.repository.s3) {
    items.push(requestItem('s3-pack-puts', requests.packPuts * runs, s3.putPer1000[input.repository.storageClass]));
    items.push(requestItem('s3-other-puts', requests.otherPuts * runs, s3.putPer1000.STANDARD));
    items.push(requestItem('s3-gets', requests.gets * runs, s3.getPer1000));
  }
  return items;
}

function requestItem(item: CostItem, quantity: number, per1000: number): LineItem {
  const unitPrice = per1000 / 1000;
  return { item, quantity, unit: 'requests', unitPrice, dollars: quantity * unitPrice };
}

function storageItem(item: CostItem, bytes: number, perGBMonth: number): LineItem {
  const quantity = bytes / GB;
  return { item, quantity, unit: 'GB-month', unitPrice: perGBMonth, dollars: quantity * perGBMonth };
}

function rateUse(volumes: readonly CostVolume[], rate: keyof VolumeRates, assumed: number): RateUse {
  const measuredVolumes = volumes.filter((v) => v.measured?.[rate] !== undefined).length;
  return { assumed, measuredVolumes, assumedVolumes: volumes.length - measuredVolumes };
}

function sumRequests(list: readonly ArchiveRequests[]): ArchiveRequests {
  const total: ArchiveRequests = { blocks: 0, lists: 0, packPuts: 0, otherPuts: 0, gets: 0 };
  for (const r of list) {
    total.blocks += r.blocks;
    total.lists += r.lists;
    total.packPuts += r.packPuts;
    total.otherPuts += r.otherPuts;
    total.gets += r.gets;
  }
  return total;
}

function sum(values: readonly number[]): number {
  return values.reduce((n, x) => n + x, 0);
}

function notesFor(history: PolicyHistory, input: PolicyCostInput, incremental: WindowTime, first: WindowTime): string[] {
  const notes: string[] = [];
  // A run that outlasts the time between runs falls behind for good; a first run that does only delays the first backups.
  const between = (history.archiveGapDays * DAY_MS) / 1000;
  if (between > 0 && incremental.seconds > between)
    notes.push(
      `a run needs ${Math.ceil(incremental.seconds)}s at the rate limits, more than the ${Math.round(between)}s between archives: runs will fall behind`,
    );
  else if (between > 0 && first.seconds > between)
    notes.push(
      `the first run needs ${Math.ceil(first.seconds)}s at the rate limits, more than the ${Math.round(between)}s between archives: the first backups span several runs`,
    );
  if (history.shortened) {
    notes.push(
      `the schedules run more than ${MAX_SIMULATED_RUNS} times in ${input.pricing.assumptions.historyMonths} months: retention was applied to the newest ${history.months.toFixed(1)} months of runs`,
    );
  }
  if (history.archivesPerMonth === 0) notes.push('no archive falls in the simulated history: only provider snapshots are priced');
  const minimum = MINIMUM_DAYS[input.repository.storageClass];
  if (input.repository.s3 && minimum !== undefined) {
    notes.push(
      `${input.repository.storageClass} bills each pack for at least ${minimum} days: packs prune deletes sooner are billed for the rest (not included)`,
    );
  }
  if (input.repository.s3 && (input.repository.storageClass === 'GLACIER' || input.repository.storageClass === 'DEEP_ARCHIVE')) {
    notes.push(`${input.repository.storageClass} adds 40 KB of metadata per pack, and manifests go to packs of their own in STANDARD (neither included)`);
  }
  return notes;
}
