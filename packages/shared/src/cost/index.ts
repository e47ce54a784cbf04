/**
 * @snapfleet/shared/cost: what a policy costs per month (EBS snapshot storage, EBS direct API
 * calls, S3 requests and storage) and how long one of its runs needs at the configured rate
 * limits. Pure: the caller discovers the volumes, reads the repository's snapshot stats and passes
 * plain data and `now`. docs/operations.md, "Cost estimates".
 */
export {
  estimatePolicyCost,
  GB,
  type CostItem,
  type CostRepository,
  type CostVolume,
  type LineItem,
  type PolicyCostEstimate,
  type PolicyCostInput,
  type RateUse,
  type RunEstimate,
} from './estimate.js';
export { simulateHistory, MAX_SIMULATED_RUNS, MONTH_MS, type CostSchedule, type HistoryInput, type PolicyHistory, type TierHistory } from './history.js';
export { measureVolumeRates, storedBytesOf, RECENT_SNAPSHOTS, type ArchivedSnapshotStats, type VolumeRates } from './volume-rates.js';
export {
  archiveRequests,
  EBS_BLOCK_BYTES,
  GETS_PER_ARCHIVE,
  LIST_PAGE_BLOCKS,
  LISTS_PER_ARCHIVE,
  SMALL_PUTS_PER_ARCHIVE,
  type ArchiveRequests,
} from './request-model.js';
export {
  windowTime,
  type AwsRateLimits,
  type JobRate,
  type JobRateLimits,
  type RunWork,
  type WindowLimit,
  type WindowPart,
  type WindowTime,
} from './window-time.js';
export { defaultPricing, pricingSchema, type CostAssumptions, type Pricing, type PricingInput } from '../config/pricing-schema.js';
