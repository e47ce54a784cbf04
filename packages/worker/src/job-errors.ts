/**
 * Errors at the queue boundary (STYLE 7): engine errors that retrying cannot fix (invalid input,
 * not found, wrong password, corrupt data, permanent) become BullMQ's UnrecoverableError, so the
 * job fails at once with the engine's message; transient and throttled errors, and anything
 * unclassified (an I/O error, a dropped connection), are rethrown for BullMQ to retry with the
 * job's exponential backoff and jitter. A malformed payload is unrecoverable with zod's message.
 */
import { DelayedError, UnrecoverableError, WaitingChildrenError, RateLimitError } from 'bullmq';
import { isSnapfleetError, type ErrorKind } from '@snapfleet/shared';
import { describePayloadError } from '@snapfleet/shared/jobs';
import type { z } from 'zod';

/** BullMQ's control-flow errors pass through untouched. */
export function isControlFlowError(err: unknown): boolean {
  return err instanceof DelayedError || err instanceof WaitingChildrenError || err instanceof RateLimitError || err instanceof UnrecoverableError;
}

export function toQueueError(err: unknown): unknown {
  if (isControlFlowError(err)) return err;
  if (isSnapfleetError(err) && !err.retryable) return new UnrecoverableError(`${err.kind}: ${err.message}`);
  return err;
}

/** The error kind for metrics: the engine's kind, or "unrecoverable" / "other". */
export function errorKindOf(err: Error): ErrorKind | 'unrecoverable' | 'other' {
  if (isSnapfleetError(err)) return err.kind;
  const m = /^(not-found|permanent|transient|throttled|corrupt|invalid-input|wrong-password): /.exec(err.message);
  if (m) return m[1] as ErrorKind;
  if (err.name === 'UnrecoverableError') return 'unrecoverable';
  return 'other';
}

/** Parses a payload or fails the job for good with the field-level message. */
export function parsePayload<T extends z.ZodType>(schema: T, data: unknown, queue: string): z.output<T> {
  const result = schema.safeParse(data);
  if (!result.success) throw new UnrecoverableError(`invalid-input: malformed ${queue} job payload: ${describePayloadError(result.error)}`);
  return result.data;
}
