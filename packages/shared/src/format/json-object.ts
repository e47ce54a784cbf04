/**
 * The repository's JSON objects (snapshots, leases, deletion markers, config) are parsed and
 * checked against their schema here, so that damage always reads the same way: corrupt data
 * naming the object and the first field that is wrong, never a raw SyntaxError from JSON.parse.
 */
import type { z } from 'zod';
import { CorruptDataError, type CorruptionSite } from '../errors.js';

/** `what` starts the message ("lease locks/ab", "repository config"); `site` says where it is. */
export function parseJsonObject<T extends z.ZodType>(bytes: Uint8Array, schema: T, what: string, site: CorruptionSite): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new CorruptDataError(`${what} is not JSON`, site, { cause: err });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(the whole object)';
    throw new CorruptDataError(`${what} is malformed at ${field}: ${issue?.message}`, site);
  }
  return parsed.data;
}
