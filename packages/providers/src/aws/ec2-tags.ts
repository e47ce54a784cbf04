/**
 * Engine tags <-> EC2 tags. The engine tags snapshots with strings (`policy=daily`,
 * `slot=20260131T020000Z`, a policy's own `env=prod` or `critical`); EC2 tags are key/value pairs.
 *
 * - `policy=` and `slot=` become `snapfleet:policy` / `snapfleet:slot`: namespaced, so they never
 *   collide with an account's own tagging.
 * - Other `key=value` tags stay as they are (so cost-allocation tags such as `CostCenter=42`
 *   work), a tag without `=` becomes a key with an empty value.
 * - `snapfleet:volume`, `snapfleet:token`, `snapfleet:set`, `snapfleet:copy-of` are the provider's
 *   own bookkeeping and are never handed back as engine tags.
 *
 * Reading back gives exactly the tags createSnapshot was given, so listSnapshots can filter by them.
 */
import type { Filter, Tag } from '@aws-sdk/client-ec2';
import { InvalidInputError } from '@snapfleet/shared';

export const TAG_PREFIX = 'snapfleet:';
export const POLICY_TAG = 'snapfleet:policy';
export const SLOT_TAG = 'snapfleet:slot';
export const VOLUME_TAG = 'snapfleet:volume';
export const TOKEN_TAG = 'snapfleet:token';
export const SET_TAG = 'snapfleet:set';
export const COPY_OF_TAG = 'snapfleet:copy-of';

/** Engine tag names that map into the snapfleet: namespace. */
const NAMESPACED = new Set(['policy', 'slot']);
/** EC2 limits: 128-character keys, 256-character values, 50 tags per resource. */
const MAX_KEY = 128;
const MAX_VALUE = 256;
export const MAX_TAGS = 50;

function split(tag: string): { key: string; value: string } {
  const eq = tag.indexOf('=');
  return eq < 0 ? { key: tag, value: '' } : { key: tag.slice(0, eq), value: tag.slice(eq + 1) };
}

/** One engine tag as an EC2 tag; rejects keys EC2 or this provider reserve. */
export function toEc2Tag(tag: string): Tag {
  const { key, value } = split(tag);
  if (!key) throw new InvalidInputError(`tag ${JSON.stringify(tag)} has an empty key`, 'tags');
  if (NAMESPACED.has(key)) return { Key: TAG_PREFIX + key, Value: value };
  if (key.startsWith(TAG_PREFIX) || key.toLowerCase().startsWith('aws:')) {
    throw new InvalidInputError(`tag ${JSON.stringify(tag)}: keys starting with "${TAG_PREFIX}" or "aws:" are reserved`, 'tags');
  }
  if (key.length > MAX_KEY || value.length > MAX_VALUE) {
    throw new InvalidInputError(`tag ${JSON.stringify(tag)}: EC2 allows keys of ${MAX_KEY} and values of ${MAX_VALUE} characters`, 'tags');
  }
  return { Key: key, Value: value };
}

/** An EC2 tag as an engine tag, or undefined for the provider's own bookkeeping tags. */
export function fromEc2Tag(tag: Tag): string | undefined {
  const key = tag.Key ?? '';
  const value = tag.Value ?? '';
  if (key.startsWith(TAG_PREFIX)) {
    const short = key.slice(TAG_PREFIX.length);
    return NAMESPACED.has(short) ? `${short}=${value}` : undefined;
  }
  return value === '' ? key : `${key}=${value}`;
}

/** The engine tags among `tags`: policy first, then slot, then the rest sorted. */
export function engineTags(tags: readonly Tag[] | undefined): string[] {
  const out = (tags ?? []).map(fromEc2Tag).filter((t): t is string => t !== undefined);
  const rank = (t: string) => (t.startsWith('policy=') ? 0 : t.startsWith('slot=') ? 1 : 2);
  return out.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/** A volume's tags as discover reports them: `key=value`, or `key` when the value is empty. */
export function volumeTags(tags: readonly Tag[] | undefined): string[] {
  return (tags ?? []).map((t) => ((t.Value ?? '') === '' ? (t.Key ?? '') : `${t.Key}=${t.Value}`)).sort();
}

/**
 * Whether a volume's EC2 tags satisfy one selector tag: `key=value` needs that exact pair, a bare
 * `key` needs the key with any value (the usual meaning of "tagged backup").
 */
export function selectorTagMatches(selectorTag: string, tags: readonly Tag[] | undefined): boolean {
  const { key, value } = split(selectorTag);
  const hasValue = selectorTag.includes('=');
  return (tags ?? []).some((t) => t.Key === key && (!hasValue || (t.Value ?? '') === value));
}

/**
 * Server-side filters for selector tags: `tag:<key>` for pairs, `tag-key` for bare keys (one
 * filter per name, so repeated keys are left to the client-side check that always follows).
 */
export function selectorTagFilters(selectorTags: readonly string[] | undefined): Filter[] {
  const filters = new Map<string, Filter>();
  for (const t of selectorTags ?? []) {
    const { key, value } = split(t);
    const name = t.includes('=') ? `tag:${key}` : 'tag-key';
    if (!filters.has(name)) filters.set(name, { Name: name, Values: [t.includes('=') ? value : key] });
  }
  return [...filters.values()];
}

/** Filters for snapshots carrying every one of the engine `tags`. */
export function snapshotTagFilters(tags: readonly string[]): Filter[] {
  const filters = new Map<string, Filter>();
  for (const t of tags) {
    const ec2 = toEc2Tag(t);
    const name = `tag:${ec2.Key}`;
    if (!filters.has(name)) filters.set(name, { Name: name, Values: [ec2.Value ?? ''] });
  }
  return [...filters.values()];
}
