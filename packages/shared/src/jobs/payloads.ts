/**
 * Job payloads: ids, never data or secrets (BullMQ production guide: keep payloads small; a
 * worker looks up the policy, repository and volume in its own configuration). Each payload
 * carries a version `v` so a change of shape is a new version, never a silent reinterpretation.
 * Workers parse payloads with these schemas; a malformed one fails at once (unrecoverable).
 */
import { z } from 'zod';
import { isValidSlot, SLOT_PATTERN } from './job-ids.js';

const id = z.string().min(1).max(512);
const SLOT_ERROR = 'must be an ISO 8601 basic UTC time such as 20260131T020000Z';
// The pattern alone lets month 13 through, which the worker would turn into an invalid date.
const slot = z.string().regex(SLOT_PATTERN, { error: SLOT_ERROR }).refine(isValidSlot, { error: SLOT_ERROR });

export const volumeJobSchema = z.strictObject({
  v: z.literal(1),
  policy: id,
  volumeId: id,
  slot,
  repository: id,
  /**
   * Archive jobs: the provider snapshot to archive, from the snapshot job that added this one.
   * Absent in an archive job that is a flow's parent (enqueued before chains): its child's result names it.
   */
  snapshotRef: id.optional(),
  /**
   * The volume's region, when the fleet routes jobs by region: the queue each job of the chain
   * goes to (stageQueue). Absent: the stage's own queue.
   */
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/)
    .optional(),
});

export const snapshotJobSchema = volumeJobSchema;
export const archiveJobSchema = volumeJobSchema;
export const retentionJobSchema = volumeJobSchema;

export const verifyJobSchema = z.strictObject({
  v: z.literal(1),
  repository: id,
  slot,
  /** Percent of packs read back. */
  readDataSubset: z.number().gt(0).max(100).optional(),
});

/** A planner tick: which policy (or repository, for verify) the scheduler fires for. */
export const tickJobSchema = z.discriminatedUnion('kind', [
  z.strictObject({ v: z.literal(1), kind: z.literal('policy'), policy: id }),
  z.strictObject({ v: z.literal(1), kind: z.literal('verify'), repository: id }),
]);

/** A restore drill of a policy's volumes (the verify queue; docs/operations.md, "Restore drills"). */
export const drillJobSchema = z.strictObject({ v: z.literal(1), policy: id });

/** The search for orphans (docs/operations.md, "Orphans"), on the retention queue; its slot names the run. */
export const orphanSweepJobSchema = z.strictObject({ v: z.literal(1) });

/** The orphans rule applied to one (policy, volume) pair, in the repository the pair's archives are in. */
export const orphanRetentionJobSchema = z.strictObject({
  v: z.literal(1),
  policy: id,
  volumeId: id,
  /** Absent when no record says which repository holds the pair's archives: the provider's snapshots only. */
  repository: id.optional(),
});

/** One alert, as sent: ids, states and messages, never a secret (messages are the jobs' own). */
export const alertSchema = z.strictObject({
  event: z.enum(['job-failed', 'rpo-breached', 'rpo-recovered', 'prune-leftovers', 'drill-failed', 'retention-held']),
  /** ISO 8601: when the fleet noticed. */
  at: z.string().min(1),
  summary: z.string().min(1).max(2000),
  policy: id.optional(),
  volumeId: id.optional(),
  repository: id.optional(),
  details: z.record(z.string(), z.union([z.string().max(2000), z.number(), z.boolean()])).optional(),
});

/** Send `alert` to the config's target `target` (the worker looks up its URL). */
export const alertDeliveryJobSchema = z.strictObject({ v: z.literal(1), target: id, alert: alertSchema });

/** What a snapshot job returns: its child's value is how archive learns the snapshot ref. */
export const snapshotResultSchema = z.strictObject({ ref: z.string().min(1), volumeId: id });

export type VolumeJob = z.output<typeof volumeJobSchema>;
export type VerifyJob = z.output<typeof verifyJobSchema>;
export type TickJob = z.output<typeof tickJobSchema>;
export type SnapshotResult = z.output<typeof snapshotResultSchema>;
export type Alert = z.output<typeof alertSchema>;
export type DrillJob = z.output<typeof drillJobSchema>;
export type OrphanSweepJob = z.output<typeof orphanSweepJobSchema>;
export type OrphanRetentionJob = z.output<typeof orphanRetentionJobSchema>;
export type AlertDeliveryJob = z.output<typeof alertDeliveryJobSchema>;

/** zod's message in one line, field first: `volumeId: Invalid input: expected string`. */
export function describePayloadError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
}
