/**
 * The `pricing` section of fleet.yaml: the price table `snapfleet plan --cost` multiplies by, and
 * the assumptions it makes where a repository has no history of a volume yet.
 *
 * The defaults are AWS's public on-demand list prices for ONE region, us-east-1 (US East, N.
 * Virginia), so an estimate needs no network and no pricing API; another region, a later price
 * change or a negotiated rate is a matter of overriding the fields here. Sources, checked
 * 2026-12-05: aws.amazon.com/ebs/pricing and the EBS user guide's "Pricing for EBS direct APIs"
 * (docs.aws.amazon.com/ebs/latest/userguide/ebsapi-pricing.html), aws.amazon.com/s3/pricing.
 * docs/operations.md, "Cost estimates", explains how each price is used.
 *
 * "GB" is what AWS bills by, 2^30 bytes; a month is 730 hours, as AWS's pricing calculator counts.
 */
import { z } from 'zod';
import type { PackStorageClass } from '../ports/blob-store.js';

const price = (fallback: number) =>
  z.number({ error: 'must be a price in dollars, such as 0.023' }).nonnegative({ error: 'must be 0 or more' }).default(fallback);

const share = (fallback: number) =>
  z.number({ error: 'must be a number from 0 to 1' }).min(0, { error: 'must be from 0 to 1' }).max(1, { error: 'must be from 0 to 1' }).default(fallback);

/** One price per S3 storage class a repository may keep its packs in (`init --pack-storage-class`). */
const perStorageClass = (d: Record<PackStorageClass, number>) =>
  z
    .strictObject({
      STANDARD: price(d.STANDARD),
      STANDARD_IA: price(d.STANDARD_IA),
      GLACIER_IR: price(d.GLACIER_IR),
      GLACIER: price(d.GLACIER),
      DEEP_ARCHIVE: price(d.DEEP_ARCHIVE),
    })
    .prefault({});

const ebsPricesSchema = z.strictObject({
  /** EBS snapshot storage, standard tier, $ per GB-month (the provider snapshots a policy's snapshotTier keeps). @defaultValue 0.05 */
  snapshotStorageGBMonth: price(0.05),
  /** EBS direct API GetSnapshotBlock, $ per 1,000 blocks returned (one per 512 KiB block an archive reads). @defaultValue 0.003 */
  getSnapshotBlockPer1000: price(0.003),
  /** EBS direct API ListChangedBlocks and ListSnapshotBlocks, $ per 1,000 requests. @defaultValue 0.0006 */
  listBlocksPer1000: price(0.0006),
});

const s3PricesSchema = z.strictObject({
  /**
   * S3 storage, $ per GB-month, by storage class (the first 50 TB a month).
   * @defaultValue { STANDARD: 0.023, STANDARD_IA: 0.0125, GLACIER_IR: 0.004, GLACIER: 0.0036, DEEP_ARCHIVE: 0.00099 }
   */
  storageGBMonth: perStorageClass({ STANDARD: 0.023, STANDARD_IA: 0.0125, GLACIER_IR: 0.004, GLACIER: 0.0036, DEEP_ARCHIVE: 0.00099 }),
  /**
   * S3 PUT, COPY, POST and LIST requests, $ per 1,000, by the storage class of the object written
   * (packs go to the repository's pack storage class, everything else to STANDARD).
   * @defaultValue { STANDARD: 0.005, STANDARD_IA: 0.01, GLACIER_IR: 0.02, GLACIER: 0.03, DEEP_ARCHIVE: 0.05 }
   */
  putPer1000: perStorageClass({ STANDARD: 0.005, STANDARD_IA: 0.01, GLACIER_IR: 0.02, GLACIER: 0.03, DEEP_ARCHIVE: 0.05 }),
  /** S3 GET and all other requests on STANDARD objects, $ per 1,000. @defaultValue 0.0004 */
  getPer1000: price(0.0004),
});

/**
 * What the estimate assumes of a volume the repository has no history of (or when it cannot be
 * opened). Where the repository has snapshots of the volume, their stats are used instead.
 */
const assumptionsSchema = z.strictObject({
  /** Share of a volume's size written anew per day. @defaultValue 0.03 (3%) */
  dailyChangeRate: share(0.03),
  /** Bytes stored in the repository per byte read, after compression and deduplication. @defaultValue 0.5 */
  storedRatio: share(0.5),
  /** Share of a volume's blocks that hold data (EBS snapshots and first archives skip the others). @defaultValue 1 (every block) */
  writtenShare: share(1),
  /**
   * Months of history the retention rules are applied to: a tier that keeps more than this
   * (keepYearly, or no rules) is priced as it stands after this long. @defaultValue 12
   */
  historyMonths: z
    .number({ error: 'must be a number of months' })
    .int({ error: 'must be a whole number of months' })
    .min(1, { error: 'must be at least 1' })
    .max(120, { error: 'must be at most 120' })
    .default(12),
});

export const pricingSchema = z.strictObject({
  /** The region the prices are for; shown with every estimate, never used to look anything up. @defaultValue "us-east-1" */
  region: z.string().min(1, { error: 'must not be empty' }).default('us-east-1'),
  ebs: ebsPricesSchema.prefault({}),
  s3: s3PricesSchema.prefault({}),
  assumptions: assumptionsSchema.prefault({}),
});

export type PricingInput = z.input<typeof pricingSchema>;
export type Pricing = z.output<typeof pricingSchema>;
export type CostAssumptions = Pricing['assumptions'];

/** The price table of a config without a `pricing` section: the us-east-1 defaults. */
export function defaultPricing(): Pricing {
  return pricingSchema.parse({});
}
