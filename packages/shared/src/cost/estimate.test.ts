import { describe, expect, it } from 'vitest';
import { defaultPricing, pricingSchema } from '../config/pricing-schema.js';
import { parseRetentionPolicy } from '../retention/policy-schema.js';
import { estimatePolicyCost, type LineItem, type PolicyCostInput } from './estimate.js';

const GIB = 1024 ** 3;
const NOW = new Date('2026-12-05T12:00:00Z');

/**
 * The hand-computed case: two EBS volumes, 100 GiB (A) and 500 GiB (B), a daily policy at 02:00
 * UTC whose snapshot tier keeps the last 7 and whose archive tier keeps 30 dailies, into an S3
 * repository with 16 MiB packs in STANDARD, at the default us-east-1 prices and assumptions (3% of
 * a volume changes a day, every block written, half of what is read is stored).
 */
function handCase(overrides: Partial<PolicyCostInput> = {}): PolicyCostInput {
  return {
    policy: 'nightly',
    volumes: [
      { id: 'vol-a', sizeBytes: 100 * GIB },
      { id: 'vol-b', sizeBytes: 500 * GIB },
    ],
    schedules: [{ cron: '0 2 * * *', timeZone: 'UTC' }],
    retention: parseRetentionPolicy({ snapshotTier: { keepLast: 7 }, archiveTier: { keepDaily: 30 } }),
    now: NOW,
    pricing: defaultPricing(),
    repository: { s3: true, storageClass: 'STANDARD', packSizeMiB: 16 },
    aws: { ebsBlockRequestsPerSecond: 1000, ebsBlockRequestsPerSnapshotPerSecond: 1000, ebsListRequestsPerSecond: 50, ec2MutatingRequestsPerSecond: 5 },
    jobLimits: { policy: { max: 1, perMs: 60_000 } },
    ...overrides,
  };
}

function dollarsOf(items: readonly LineItem[]): Record<string, number> {
  return Object.fromEntries(items.map((i) => [i.item, i.dollars]));
}

function quantitiesOf(items: readonly LineItem[]): Record<string, number> {
  return Object.fromEntries(items.map((i) => [i.item, i.quantity]));
}

describe('estimatePolicyCost, the hand-computed case', () => {
  // History: 12 months of 730 h = 8,760 h = 365 days; the daily cron runs 365 times in
  // (now - 365 d, now], every run archived: 365 / 12 = 30.41666... runs a month, 1 day apart.
  // Snapshot tier keepLast 7: 7 kept, 6 gaps of 1 day. Archive tier keepDaily 30: 29 gaps of 1 day.
  const estimate = estimatePolicyCost(handCase());
  const RUNS_A_MONTH = 365 / 12;

  it('simulates the history the schedule and the rules make', () => {
    expect(estimate.history.snapshotsPerMonth).toBeCloseTo(RUNS_A_MONTH, 9);
    expect(estimate.history.archivesPerMonth).toBeCloseTo(RUNS_A_MONTH, 9);
    expect(estimate.history.archiveGapDays).toBeCloseTo(1, 9);
    expect(estimate.history.snapshotTier).toEqual({ kept: 7, gapsDays: [1, 1, 1, 1, 1, 1] });
    expect(estimate.history.archiveTier.kept).toBe(30);
    expect(estimate.volumes).toBe(2);
    expect(estimate.totalBytes).toBe(600 * GIB);
  });

  it('prices one incremental run', () => {
    // A reads 3% of 100 GiB = 3 GiB = 6,144 blocks of 512 KiB (1 list page of up to 10,000) and
    //   stores half, 1.5 GiB = 1,536 MiB = 96 packs; other PUTs: 96 index objects + lease, pack
    //   list, snapshot (3) + 3 listings = 102; 10 GETs.
    // B reads 15 GiB = 30,720 blocks (4 list pages), stores 7.5 GiB = 480 packs; 486 other PUTs; 10 GETs.
    expect(estimate.incremental.requests).toEqual({ blocks: 36_864, lists: 5, packPuts: 576, otherPuts: 588, gets: 20 });
    expect(estimate.incremental.readBytes).toBeCloseTo(18 * GIB, 0);
    expect(estimate.incremental.storedBytes).toBeCloseTo(9 * GIB, 0);
  });

  it('prices every monthly line item as computed by hand', () => {
    const items = estimate.monthly.items;
    expect(items.map((i) => i.item)).toEqual([
      'ebs-snapshot-storage',
      'ebs-get-snapshot-block',
      'ebs-list-blocks',
      's3-pack-puts',
      's3-other-puts',
      's3-gets',
      's3-storage',
    ]);
    // EBS snapshots: each volume's 7 kept snapshots hold it whole once plus 6 days of 3% changes:
    //   600 GiB x (1 + 6 x 0.03) = 708 GB-month x $0.05 = $35.40.
    // GetSnapshotBlock: 36,864 blocks a run x 365/12 runs = 1,121,280 x $0.003/1,000 = $3.36384.
    // List calls: 5 x 365/12 = 152.0833... x $0.0006/1,000 = $0.00009125.
    // Pack PUTs: 576 x 365/12 = 17,520 x $0.005/1,000 = $0.0876.
    // Other PUTs: 588 x 365/12 = 17,885 x $0.005/1,000 = $0.089425.
    // GETs: 20 x 365/12 = 608.333... x $0.0004/1,000 = $0.000243333...
    // S3 storage: the 30 kept archives: half of 600 GiB x (1 + 29 x 0.03) = 561 GB-month x $0.023 = $12.903.
    expect(quantitiesOf(items)).toEqual({
      'ebs-snapshot-storage': expect.closeTo(708, 9),
      'ebs-get-snapshot-block': expect.closeTo(1_121_280, 6),
      'ebs-list-blocks': expect.closeTo(152.083333, 5),
      's3-pack-puts': expect.closeTo(17_520, 6),
      's3-other-puts': expect.closeTo(17_885, 6),
      's3-gets': expect.closeTo(608.333333, 5),
      's3-storage': expect.closeTo(561, 9),
    });
    expect(dollarsOf(items)).toEqual({
      'ebs-snapshot-storage': expect.closeTo(35.4, 9),
      'ebs-get-snapshot-block': expect.closeTo(3.36384, 9),
      'ebs-list-blocks': expect.closeTo(0.00009125, 12),
      's3-pack-puts': expect.closeTo(0.0876, 9),
      's3-other-puts': expect.closeTo(0.089425, 9),
      's3-gets': expect.closeTo(0.000243333, 9),
      's3-storage': expect.closeTo(12.903, 9),
    });
    // 35.40 + 3.36384 + 0.00009125 + 0.0876 + 0.089425 + 0.000243333 + 12.903 = 51.844199583
    expect(estimate.monthly.dollars).toBeCloseTo(51.844199583, 8);
    expect(estimate.ebsSnapshotBytes).toBeCloseTo(708 * GIB, 0);
    expect(estimate.repositoryBytes).toBeCloseTo(561 * GIB, 0);
  });

  it('prices the first, full run once', () => {
    // A: 100 GiB = 204,800 blocks, 21 list pages; stores 50 GiB = 3,200 packs, 3,206 other PUTs.
    // B: 500 GiB = 1,024,000 blocks, 103 list pages; 16,000 packs, 16,006 other PUTs.
    // $: 1,228,800 x 0.003/1,000 = 3.6864; 124 x 0.0006/1,000 = 0.0000744; 19,200 x 0.005/1,000 = 0.096;
    //    19,212 x 0.005/1,000 = 0.09606; 20 x 0.0004/1,000 = 0.000008; total 3.8785424.
    expect(estimate.first.requests).toEqual({ blocks: 1_228_800, lists: 124, packPuts: 19_200, otherPuts: 19_212, gets: 20 });
    expect(estimate.first.dollars).toBeCloseTo(3.8785424, 9);
  });

  it('times a run by its slowest limit', () => {
    // Incremental: 36,864 blocks / 1,000 per s = 36.864 s; B alone 30,720 / 1,000 = 30.72 s; 5 lists
    // / 50 per s = 0.1 s; 2 CreateSnapshot / 5 per s = 0.4 s; the policy's 1 archive a minute: 2 x 60 s = 120 s.
    expect(estimate.incremental.window.seconds).toBeCloseTo(120, 9);
    expect(estimate.incremental.window.boundBy).toBe('policy-rate-limit');
    expect(Object.fromEntries(estimate.incremental.window.parts.map((p) => [p.limit, p.seconds]))).toEqual({
      'policy-rate-limit': 120,
      'ebs-block-requests': expect.closeTo(36.864, 9),
      'ebs-block-requests-per-snapshot': expect.closeTo(30.72, 9),
      'ec2-create-snapshot': expect.closeTo(0.4, 9),
      'ebs-list-requests': expect.closeTo(0.1, 9),
    });
    // First: 1,228,800 blocks / 1,000 per s = 1,228.8 s, more than the rate limit's 120 s.
    expect(estimate.first.window.seconds).toBeCloseTo(1228.8, 9);
    expect(estimate.first.window.boundBy).toBe('ebs-block-requests');
  });

  it('says which rates were assumed', () => {
    expect(estimate.assumptions.dailyChangeRate).toEqual({ assumed: 0.03, measuredVolumes: 0, assumedVolumes: 2 });
    expect(estimate.assumptions.storedRatio).toEqual({ assumed: 0.5, measuredVolumes: 0, assumedVolumes: 2 });
    expect(estimate.notes).toEqual([]);
  });
});

describe('estimatePolicyCost, edge cases', () => {
  it('prices a policy without volumes at nothing, and takes no time', () => {
    const e = estimatePolicyCost(handCase({ volumes: [] }));
    expect(e.monthly.items.length).toBe(7);
    expect(e.monthly.dollars).toBe(0);
    expect(e.first.dollars).toBe(0);
    expect(e.incremental.window).toEqual({ seconds: 0, parts: [] });
    expect(e.totalBytes).toBe(0);
  });

  it('takes a custom price table, its other prices staying the defaults', () => {
    const pricing = pricingSchema.parse({ region: 'eu-central-1', ebs: { snapshotStorageGBMonth: 0.054 }, s3: { storageGBMonth: { STANDARD: 0.0245 } } });
    const e = estimatePolicyCost(handCase({ pricing }));
    const dollars = dollarsOf(e.monthly.items);
    expect(e.region).toBe('eu-central-1');
    expect(dollars['ebs-snapshot-storage']).toBeCloseTo(708 * 0.054, 9); // 38.232
    expect(dollars['s3-storage']).toBeCloseTo(561 * 0.0245, 9); // 13.7445
    expect(dollars['ebs-get-snapshot-block']).toBeCloseTo(3.36384, 9);
  });

  it('takes custom assumptions', () => {
    // 1% a day, a quarter stored, half the blocks written: EBS 600 GiB x (0.5 + 6 x 0.01) = 336 GB;
    // S3 0.25 x 600 x (0.5 + 29 x 0.01) = 118.5 GB.
    const pricing = pricingSchema.parse({ assumptions: { dailyChangeRate: 0.01, storedRatio: 0.25, writtenShare: 0.5 } });
    const quantities = quantitiesOf(estimatePolicyCost(handCase({ pricing })).monthly.items);
    expect(quantities['ebs-snapshot-storage']).toBeCloseTo(336, 9);
    expect(quantities['s3-storage']).toBeCloseTo(118.5, 9);
  });

  it('prices packs in GLACIER at its storage and PUT prices, the other objects at STANDARD', () => {
    // 561 GB-month x $0.0036 = $2.0196; 17,520 pack PUTs x $0.03/1,000 = $0.5256; other PUTs unchanged.
    const e = estimatePolicyCost(handCase({ repository: { s3: true, storageClass: 'GLACIER', packSizeMiB: 16 } }));
    const dollars = dollarsOf(e.monthly.items);
    expect(dollars['s3-storage']).toBeCloseTo(2.0196, 9);
    expect(dollars['s3-pack-puts']).toBeCloseTo(0.5256, 9);
    expect(dollars['s3-other-puts']).toBeCloseTo(0.089425, 9);
    expect(e.notes.join('\n')).toMatch(/GLACIER bills each pack for at least 90 days/);
  });

  it('prices DEEP_ARCHIVE packs at $0.00099 a GB-month', () => {
    const e = estimatePolicyCost(handCase({ repository: { s3: true, storageClass: 'DEEP_ARCHIVE', packSizeMiB: 16 } }));
    expect(dollarsOf(e.monthly.items)['s3-storage']).toBeCloseTo(561 * 0.00099, 9);
  });

  it('uses larger packs for fewer PUTs', () => {
    // 1.5 GiB / 64 MiB = 24 packs, 7.5 GiB / 64 MiB = 120: 144 a run.
    const e = estimatePolicyCost(handCase({ repository: { s3: true, storageClass: 'STANDARD', packSizeMiB: 64 } }));
    expect(e.incremental.requests.packPuts).toBe(144);
  });

  it('uses measured rates where the repository had them', () => {
    // A measured: 1% a day, stored ratio 0.2; B assumed (3%, 0.5). S3: 0.2 x 100 x (1 + 29 x 0.01) + 0.5 x 500 x 1.87 = 25.8 + 467.5.
    const e = estimatePolicyCost(
      handCase({
        volumes: [
          { id: 'vol-a', sizeBytes: 100 * GIB, measured: { dailyChangeRate: 0.01, storedRatio: 0.2 } },
          { id: 'vol-b', sizeBytes: 500 * GIB },
        ],
      }),
    );
    expect(quantitiesOf(e.monthly.items)['s3-storage']).toBeCloseTo(25.8 + 467.5, 9);
    expect(e.assumptions.dailyChangeRate).toEqual({ assumed: 0.03, measuredVolumes: 1, assumedVolumes: 1 });
    expect(e.assumptions.writtenShare).toEqual({ assumed: 1, measuredVolumes: 0, assumedVolumes: 2 });
  });

  it('prices neither EBS nor S3 for the local provider and a folder repository', () => {
    const e = estimatePolicyCost(handCase({ aws: undefined, repository: { s3: false, storageClass: 'STANDARD', packSizeMiB: 16 } }));
    expect(e.monthly.items).toEqual([]);
    expect(e.ebsSnapshotBytes).toBe(0);
    expect(e.repositoryBytes).toBeCloseTo(561 * GIB, 0);
    // Only the job rate limit applies: 2 archives at 1 a minute.
    expect(e.incremental.window).toEqual({ seconds: 120, boundBy: 'policy-rate-limit', parts: [{ limit: 'policy-rate-limit', seconds: 120 }] });
  });

  it('notes a run that needs longer than the time between archives', () => {
    const aws = (blocksPerSecond: number) => ({
      ebsBlockRequestsPerSecond: blocksPerSecond,
      ebsBlockRequestsPerSnapshotPerSecond: 1000,
      ebsListRequestsPerSecond: 50,
      ec2MutatingRequestsPerSecond: 5,
    });
    // 10 blocks a second: the first run's 1,228,800 blocks take 122,880 s, more than a day (86,400 s).
    expect(estimatePolicyCost(handCase({ aws: aws(10) })).notes).toEqual([
      'the first run needs 122880s at the rate limits, more than the 86400s between archives: the first backups span several runs',
    ]);
    // 0.4 a second: even a run's 36,864 blocks take 92,160 s.
    expect(estimatePolicyCost(handCase({ aws: aws(0.4) })).notes).toEqual([
      'a run needs 92160s at the rate limits, more than the 86400s between archives: runs will fall behind',
    ]);
  });

  it('keeps the whole history without retention, a change never counted past the written blocks', () => {
    // 365 kept a tier, 364 gaps of a day: 600 GiB x (1 + 364 x 0.03) = 7,152 GB of EBS snapshots.
    const e = estimatePolicyCost(handCase({ retention: undefined }));
    expect(e.history.snapshotTier.kept).toBe(365);
    expect(quantitiesOf(e.monthly.items)['ebs-snapshot-storage']).toBeCloseTo(7152, 6);
    // Monthly archives with a 40% daily change: each 30-odd-day gap changes at most every block.
    const monthly = estimatePolicyCost(
      handCase({
        retention: undefined,
        schedules: [{ cron: '0 2 1 * *', timeZone: 'UTC' }],
        pricing: pricingSchema.parse({ assumptions: { dailyChangeRate: 0.4 } }),
      }),
    );
    expect(monthly.history.snapshotTier.kept).toBe(12);
    expect(quantitiesOf(monthly.monthly.items)['ebs-snapshot-storage']).toBeCloseTo(600 * 12, 6);
  });
});
