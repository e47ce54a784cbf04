/**
 * Translates Node system errors (err.code) into the engine's error classes, naming the path and
 * the operation so a message alone tells the operator what failed where.
 */
import { InvalidInputError, NotFoundError, PermanentError, TransientError } from '@snapfleet/shared';

/** Conditions that clear by themselves: descriptor exhaustion, interrupted or busy calls. */
const TRANSIENT_CODES = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ETIMEDOUT']);
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR']);
const DENIED_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function translateFsError(err: unknown, op: string, path: string): Error {
  const code = errorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  const message = `${op} ${path} failed: ${detail}`;
  if (code === undefined) return err instanceof Error ? err : new PermanentError(message);
  if (NOT_FOUND_CODES.has(code)) return new NotFoundError(`${op}: ${path} does not exist`, { cause: err });
  if (DENIED_CODES.has(code)) return new PermanentError(`${op}: permission denied on ${path} (${code})`, { cause: err });
  if (code === 'EISDIR') return new InvalidInputError(`${op}: ${path} is a directory`, 'path', { cause: err });
  if (TRANSIENT_CODES.has(code)) return new TransientError(message, { cause: err });
  // ENOSPC, EIO and the rest need an operator (free space, replace a disk): retrying will not help.
  return new PermanentError(message, { cause: err });
}
