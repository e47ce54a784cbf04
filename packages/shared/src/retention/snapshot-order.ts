/**
 * What retention needs to know about a snapshot, and the one order every rule walks: newest
 * first. Ties (equal times) are broken by id so the result never depends on input order (restic
 * keeps input order for ties, which makes its output depend on listing order).
 */
import { InvalidInputError } from '../errors.js';

export interface RetentionSnapshot {
  readonly id: string;
  /** When the volume was captured: a Date or an ISO 8601 string with an offset or "Z". */
  readonly time: Date | string;
  readonly tags?: readonly string[];
  /** Which tier the snapshot lives in; applyPolicy ignores it, applyTieredPolicy splits on it. */
  readonly tier?: 'snapshot' | 'archive';
  /** Pinned snapshots are never removed (they still count for the other rules). */
  readonly pinned?: boolean;
}

export interface OrderedSnapshot<S> {
  readonly snapshot: S;
  readonly time: number;
  readonly tags: ReadonlySet<string>;
}

/** ISO strings must say which instant they mean: a date-only or offset-less string is ambiguous. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

export function toInstant(time: Date | string, what: string): number {
  if (typeof time === 'string' && !ISO_INSTANT.test(time)) {
    throw new InvalidInputError(`${what}: time ${JSON.stringify(time)} is not an ISO 8601 date-time with "Z" or an offset`, 'time');
  }
  const ms = typeof time === 'string' ? new Date(time).getTime() : time.getTime();
  if (!Number.isFinite(ms)) throw new InvalidInputError(`${what}: invalid time ${String(time)}`, 'time');
  return ms;
}

/** Sorts newest first (ties: smaller id first); rejects duplicate ids and invalid times. */
export function orderNewestFirst<S extends RetentionSnapshot>(snapshots: readonly S[]): OrderedSnapshot<S>[] {
  const seen = new Set<string>();
  const ordered = snapshots.map((snapshot) => {
    if (seen.has(snapshot.id)) throw new InvalidInputError(`duplicate snapshot id ${snapshot.id}`, 'id');
    seen.add(snapshot.id);
    return { snapshot, time: toInstant(snapshot.time, `snapshot ${snapshot.id}`), tags: new Set(snapshot.tags ?? []) };
  });
  return ordered.sort((a, b) => b.time - a.time || (a.snapshot.id < b.snapshot.id ? -1 : a.snapshot.id > b.snapshot.id ? 1 : 0));
}
