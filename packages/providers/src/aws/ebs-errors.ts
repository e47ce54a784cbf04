/**
 * The few EBS direct API error details the block reader and writer act on, read from the errors
 * callAws classified (whose cause keeps the SDK error's name and Reason) or from raw SDK errors.
 */
import { awsErrorName, type AwsErrorSummary } from './aws-errors.js';

/** The `Reason` of an EBS ValidationException (INVALID_BLOCK_TOKEN, UNRELATED_SNAPSHOTS…). */
export function ebsValidationReason(err: unknown): string | undefined {
  if (awsErrorName(err) !== 'ValidationException') return undefined;
  const e = err as { cause?: Partial<AwsErrorSummary>; Reason?: unknown };
  const reason = e.cause?.reason ?? e.Reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** The service refused a block token: it expired (tokens live 7 days) or belongs elsewhere. */
export function isBlockTokenRejected(err: unknown): boolean {
  const reason = ebsValidationReason(err);
  if (reason === 'INVALID_BLOCK_TOKEN') return true;
  // Without a reason, go by the message: older service responses carried none.
  return reason === undefined && awsErrorName(err) === 'ValidationException' && /block ?token/i.test((err as Error).message ?? '');
}

/** The service refused a NextToken: page tokens live 60 minutes. */
export function isPageTokenRejected(err: unknown): boolean {
  const reason = ebsValidationReason(err);
  if (reason === 'INVALID_PAGE_TOKEN') return true;
  return reason === undefined && awsErrorName(err) === 'ValidationException' && /page ?token|next ?token/i.test((err as Error).message ?? '');
}
