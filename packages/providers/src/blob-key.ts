/**
 * Object keys every store accepts: `/`-separated segments of letters, digits, `.`, `_` and `-`,
 * each starting with a letter, digit or `_`. That rules out `..`, absolute paths, empty segments
 * and dot-files (the folder store's temp files start with a dot, so keys can never collide with
 * them), and keeps a key the same string on every file system and in S3.
 */
import { InvalidInputError } from '@snapfleet/shared';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** A listing prefix may end inside a segment (`data/ab` matches `data/abc…`). */
const PARTIAL_SEGMENT = /^[A-Za-z0-9._-]*$/;
/** S3's own key limit (1,024 bytes of UTF-8); the allowed characters are all one byte. */
const MAX_KEY_LENGTH = 1024;

export function validateBlobKey(key: string): void {
  const segments = key.split('/');
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !segments.every((segment) => SEGMENT.test(segment))) {
    throw new InvalidInputError(`invalid object key ${JSON.stringify(key)}: use /-separated segments of [A-Za-z0-9._-] not starting with a dot`, 'key');
  }
}

export function validateListPrefix(prefix: string): void {
  const segments = prefix.split('/');
  const last = segments.pop() ?? '';
  const valid =
    prefix.length <= MAX_KEY_LENGTH && segments.every((segment) => SEGMENT.test(segment)) && PARTIAL_SEGMENT.test(last) && last !== '.' && last !== '..';
  if (!valid) throw new InvalidInputError(`invalid list prefix ${JSON.stringify(prefix)}`, 'prefix');
}
