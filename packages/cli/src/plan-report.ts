/**
 * `snapfleet plan` output: a block per policy for people (volumes, the history the schedules and
 * retention make, the assumptions used, the monthly line items with --cost, and the time a run
 * needs at the rate limits), and the same as one JSON document.
 */
import { GB, type CostItem, type LineItem, type PolicyCostEstimate, type RateUse, type WindowTime } from '@snapfleet/shared/cost';

export interface PolicyPlan {
  estimate: PolicyCostEstimate;
  repository: string;
  repositoryStoredBytes?: number;
  notes: string[];
}

const LABELS: Record<CostItem, string> = {
  'ebs-snapshot-storage': 'EBS snapshot storage',
  'ebs-get-snapshot-block': 'EBS GetSnapshotBlock',
  'ebs-list-blocks': 'EBS List*Blocks',
  's3-pack-puts': 'S3 PUT (packs)',
  's3-other-puts': 'S3 PUT/LIST (other)',
  's3-gets': 'S3 GET',
  's3-storage': 'S3 storage',
};

export function planText(plans: readonly PolicyPlan[], withCost: boolean): string {
  return plans.map((p) => policyText(p, withCost).join('\n')).join('\n\n') + '\n';
}

function policyText(plan: PolicyPlan, withCost: boolean): string[] {
  const e = plan.estimate;
  const h = e.history;
  const repo = e.repository;
  const lines = [
    `policy ${e.policy}: ${e.volumes} volume(s), ${gib(e.totalBytes)}; repository ${plan.repository} (${repo.s3 ? `S3, packs in ${repo.storageClass}` : 'not S3'}, ${repo.packSizeMiB} MiB packs)`,
    `  runs: ${h.snapshotsPerMonth.toFixed(1)} snapshots and ${h.archivesPerMonth.toFixed(1)} archives a month; after ${h.months.toFixed(1)} months the snapshot tier keeps ${h.snapshotTier.kept} and the archive tier ${h.archiveTier.kept} per volume`,
    `  assumptions: change ${rate(e.assumptions.dailyChangeRate, (x) => `${(x * 100).toFixed(1)}%/day`)}, stored ratio ${rate(e.assumptions.storedRatio, (x) => x.toFixed(2))}, written share ${rate(e.assumptions.writtenShare, (x) => `${(x * 100).toFixed(0)}%`)}`,
    `  holds: EBS snapshots ${gib(e.ebsSnapshotBytes)}, repository ${gib(e.repositoryBytes)}${plan.repositoryStoredBytes !== undefined ? ` (stored now for these volumes: ${gib(plan.repositoryStoredBytes)})` : ''}`,
    `  per run: read ${gib(e.incremental.readBytes)}, store ${gib(e.incremental.storedBytes)}; first run: read ${gib(e.first.readBytes)}, store ${gib(e.first.storedBytes)}`,
    `  window: ${windowText(e.incremental.window)} a run; ${windowText(e.first.window)} the first run`,
  ];
  if (withCost) {
    lines.push(`  monthly (${e.region} prices)`.padEnd(30) + 'quantity'.padStart(22) + 'unit price'.padStart(22) + 'per month'.padStart(14));
    for (const item of e.monthly.items) lines.push(itemLine(item));
    lines.push(`    total`.padEnd(74) + dollars(e.monthly.dollars).padStart(14));
    lines.push(
      `  first run, once: ${dollars(e.first.dollars)} (${e.first.items.map((i) => `${LABELS[i.item]} ${dollars(i.dollars)}`).join(', ') || 'nothing priced'})`,
    );
  }
  for (const note of [...plan.notes, ...e.notes]) lines.push(`  note: ${note}`);
  return lines;
}

function itemLine(i: LineItem): string {
  const quantity =
    i.unit === 'GB-month'
      ? `${i.quantity.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} GB-month`
      : `${Math.round(i.quantity).toLocaleString('en-US')} requests`;
  const unitPrice = i.unit === 'GB-month' ? `$${i.unitPrice}/GB-month` : `$${+(i.unitPrice * 1000).toPrecision(6)}/1,000`;
  return `    ${LABELS[i.item].padEnd(26)}${quantity.padStart(22)}${unitPrice.padStart(22)}${dollars(i.dollars).padStart(14)}`;
}

function rate(use: RateUse, show: (x: number) => string): string {
  if (use.assumedVolumes === 0 && use.measuredVolumes === 0) return show(use.assumed);
  const measured = use.measuredVolumes ? `measured for ${use.measuredVolumes} volume(s)` : '';
  const assumed = use.assumedVolumes ? `${show(use.assumed)} assumed for ${use.assumedVolumes}` : '';
  return [measured, assumed].filter(Boolean).join(', ');
}

export function windowText(w: WindowTime): string {
  return w.boundBy ? `${duration(w.seconds)} (bound by ${w.boundBy})` : 'no limit applies';
}

/** Seconds as "1h2m3s", rounded up to a whole second. */
export function duration(seconds: number): string {
  let rest = Math.ceil(seconds);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('') || '0s';
}

function gib(bytes: number): string {
  return `${(bytes / GB).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} GiB`;
}

function dollars(d: number): string {
  if (d > 0 && d < 0.01) return '<$0.01';
  return `$${d.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** The JSON shape: the estimate whole with --cost; without, everything but the dollars. */
export function planJson(plans: readonly PolicyPlan[], withCost: boolean): object[] {
  return plans.map(({ estimate, repository, repositoryStoredBytes, notes }) => {
    const { monthly, incremental, first, notes: estimateNotes, ...rest } = estimate;
    const run = ({ items, dollars: cost, ...r }: PolicyCostEstimate['first']) => (withCost ? { ...r, items, dollars: cost } : r);
    return {
      ...rest,
      repositoryName: repository,
      ...(repositoryStoredBytes !== undefined ? { repositoryStoredBytes } : {}),
      ...(withCost ? { monthly } : {}),
      incremental: run(incremental),
      first: run(first),
      notes: [...notes, ...estimateNotes],
    };
  });
}
