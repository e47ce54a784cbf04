/**
 * What verify reports: problems by object class, each with the snapshots and blocks it costs,
 * and a summary of what is still fully restorable. docs/cli.md documents the classes and the
 * exit code each leads to.
 */
import { isSnapfleetError, type SnapfleetError } from '../errors.js';
import type { ProgressListener } from './progress.js';

/**
 * - data: some snapshot loses blocks, or cannot be read at all, until repaired;
 * - metadata: an object that can be rebuilt or done without is damaged; every snapshot still
 *   restores (an index object: packs carry their own headers; a pack list: restores fall back to
 *   the index; one key file of several; a lease, marker or damage record);
 * - notice: nothing is damaged, but something waits for maintenance (a pack without an index
 *   object, left by an archive that was killed).
 */
export type Severity = 'data' | 'metadata' | 'notice';

const SEVERITY = {
  'missing-pack': 'data',
  'truncated-pack': 'data',
  'corrupt-pack': 'data',
  'corrupt-blob': 'data',
  'missing-blob': 'data',
  'corrupt-snapshot': 'data',
  'corrupt-manifest': 'data',
  'corrupt-index': 'metadata',
  'corrupt-packlist': 'metadata',
  'corrupt-key': 'metadata',
  'corrupt-lease': 'metadata',
  'corrupt-marker': 'metadata',
  'corrupt-damage-record': 'metadata',
  'unindexed-pack': 'notice',
} as const satisfies Record<string, Severity>;

export type ProblemKind = keyof typeof SEVERITY;

export function severityOf(kind: ProblemKind): Severity {
  return SEVERITY[kind];
}

export interface Affected {
  snapshotId: string;
  volumeId: string;
  /** Block (chunk) numbers, the first few; byte offset = chunk * chunkSize. */
  chunks: number[];
  /** Runs of consecutive blocks `[first, count]`, the first few. */
  ranges?: [number, number][];
  /** Every block of the snapshot this problem makes unreadable; undefined when unknown (a damaged manifest or snapshot object). */
  damagedChunks?: number;
  chunkSize: number;
}

export interface Problem {
  kind: ProblemKind;
  severity: Severity;
  object?: string;
  blobId?: string;
  /** Blobs the problem makes unreadable, for pack-level problems. */
  blobs?: number;
  message: string;
  affected: Affected[];
}

export interface SnapshotDamage {
  snapshotId: string;
  volumeId: string;
  /** Blocks that cannot be restored; undefined when unknown (the snapshot's manifest or object is damaged). */
  damagedChunks?: number;
  chunkSize: number;
}

export interface VerifySummary {
  /** Snapshots every block of which reads back (as far as the packs read show). */
  restorable: number;
  /** The others, with what they lose. */
  damaged: SnapshotDamage[];
  /** Packs newly recorded as damaged (damaged/), so archives store their content afresh. */
  recordedPacks: number;
}

export interface VerifyReport {
  snapshots: number;
  packsTotal: number;
  packsRead: number;
  blobsChecked: number;
  bytesRead: number;
  /** Packs in an archive storage class without a retrieved copy: not read back (their blobs are still checked against the index and manifests). */
  packsArchived?: number;
  problems: Problem[];
  summary?: VerifySummary;
}

export interface VerifyOptions {
  /** Fraction of packs to read back, (0, 1]; 1 reads every pack. */
  readDataFraction?: number;
  onProgress?: ProgressListener;
  /** Records damaged packs (damaged/) at this time, so archives stop deduplicating against them. */
  recordAt?: Date;
}

export function problem(kind: ProblemKind, message: string, fields: Omit<Problem, 'kind' | 'severity' | 'message' | 'affected'> = {}): Problem {
  return { kind, severity: severityOf(kind), message, ...fields, affected: [] };
}

/**
 * Whether a failure to read an object says something about the stored data. A transient or
 * throttled store error (a 5xx, a reset connection, SlowDown, still failing after the store's
 * retries) says only that the store could not be read just now: verify fails with it (exit 1)
 * instead of reporting damage (exit 3) that a second run would not find.
 */
export function isDataVerdict(err: unknown): err is SnapfleetError {
  return isSnapfleetError(err) && !err.retryable;
}
