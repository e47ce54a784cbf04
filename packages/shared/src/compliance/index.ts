/** @snapfleet/shared/compliance: RPO per policy and per-volume compliance (pure). */
export { derivedRpoMs, longestScheduleGapMs, policyRpoMs, RPO_GRACE_MAX_MS, RPO_GRACE_SHARE, type RpoSchedule } from './rpo.js';
export {
  assessCompliance,
  summarizeCompliance,
  type CompliancePolicy,
  type DrillResult,
  type ComplianceState,
  type JobFailure,
  type PolicyCompliance,
  type RecoveryPoint,
  type VolumeCompliance,
  type VolumeRecord,
} from './assess.js';
export { decideRpoAlerts, rpoAlertKey, type RpoAlertDecision, type RpoAlertState } from './alert-transitions.js';
export { policyRpos } from './policy-rpos.js';
export { drillOrder, pickSnapshot, type DrillCandidate } from './drill-selection.js';
export { formatAge } from './format-age.js';
export { dueOrphans, isOrphan, orphanGuardedRules, orphanRuleFrom, withOrphanRules } from './orphans.js';
