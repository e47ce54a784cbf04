/**
 * Exit codes, stable for scripts (documented in docs/cli.md). Close to restic's where the meaning
 * is the same: 10 no repository, 11 repository locked, 12 wrong password.
 */
import { isSnapfleetError, RepositoryLockedError } from '@snapfleet/shared';

export const EXIT = {
  ok: 0,
  failure: 1,
  invalidInput: 2,
  problemsFound: 3,
  corruptData: 4,
  /** verify: damaged objects that can be rebuilt or done without; every snapshot restores whole. */
  repairable: 5,
  noRepository: 10,
  locked: 11,
  wrongPassword: 12,
} as const;

export function exitCodeFor(err: unknown): number {
  if (!isSnapfleetError(err)) return EXIT.failure;
  if (err instanceof RepositoryLockedError) return EXIT.locked;
  switch (err.kind) {
    case 'invalid-input':
      return EXIT.invalidInput;
    case 'wrong-password':
      return EXIT.wrongPassword;
    case 'corrupt':
      return EXIT.corruptData;
    case 'not-found':
      return /no snapfleet repository/.test(err.message) ? EXIT.noRepository : EXIT.invalidInput;
    default:
      return EXIT.failure;
  }
}

/** One line naming the problem (and the field, for bad input). Never a stack trace by default. */
export function errorLine(err: unknown): string {
  if (isSnapfleetError(err)) {
    const field = 'field' in err && typeof err.field === 'string' ? ` [${err.field}]` : '';
    return `snapfleet: ${err.message}${field}`;
  }
  const e = err as Error;
  return `snapfleet: unexpected error: ${e?.message ?? String(err)}`;
}
