/**
 * Audit entries (audit/<time>-<tag>): one operator action on the repository (forget, prune, a
 * key change, ...) with who, when and how it ended, written by the command when it ends
 * (docs/format.md, "Audit entries"). Each is its own immutable object, so appending needs no
 * lease and two hosts never contend; the name starts with the time so that a listing sorts
 * them, and ends with a keyed hash of the plaintext so that a reader can tell an entry that was
 * altered, or copied under another name, from one this repository's writers stored.
 */
import { createHmac, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { CorruptDataError, InvalidInputError } from '../errors.js';
import { parseJsonObject } from './json-object.js';

export const AUDIT_PREFIX = 'audit/';

/**
 * Bounds on what an entry may hold: an entry is a line of a log, never a report. A reader refuses
 * bigger ones as damaged before it allocates for them.
 */
export const MAX_AUDIT_OBJECT_BYTES = 64 * 1024;
const MAX_TEXT = 1000;
const MAX_DETAILS = 32;

/** Keeps the tag apart from a blob id of the same bytes (as the volume key's prefix does). */
const TAG_DOMAIN = 'snapfleet audit\0';
/** 16 bytes of HMAC-SHA-256: enough that no writer stores a different plaintext under one name. */
const TAG_BYTES = 16;

export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

const entrySchema = z.object({
  version: z.literal(1),
  /** When the action ended (ISO 8601, UTC, milliseconds); the name carries the same time. */
  at: z.iso.datetime(),
  actor: z.string().min(1).max(MAX_TEXT),
  /** Open-ended on purpose: a newer release may record actions this one does not know. */
  action: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/),
  target: z.string().max(MAX_TEXT),
  outcome: z.enum(AUDIT_OUTCOMES),
  details: z
    .record(z.string().max(64), z.union([z.string().max(MAX_TEXT), z.number(), z.boolean()]))
    .refine((d) => Object.keys(d).length <= MAX_DETAILS, `at most ${MAX_DETAILS} details`)
    .optional(),
  /** Random: two equal entries in one millisecond still get two names. */
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
});
export type AuditEntryObject = z.infer<typeof entrySchema>;

/** An entry as the engine's callers give and get it (without the format's own fields). */
export type RepositoryAuditEntry = Omit<AuditEntryObject, 'version' | 'nonce'>;

const KEY = /^audit\/(\d{8}T\d{6}\.\d{3}Z)-([0-9a-f]{32})$/;

/** `2026-12-05T13:58:02.114Z` as `20261205T135802.114Z`: fixed width, so names sort by time. */
export function auditTimeStamp(at: string): string {
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 23)}Z`;
}

function isoFromStamp(stamp: string): string {
  return `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13)}`;
}

/** The time an audit key names, or undefined for a key that is not an audit entry's. */
export function parseAuditKey(key: string): { at: string; tag: string } | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const at = isoFromStamp(m[1]!);
  return Number.isNaN(Date.parse(at)) ? undefined : { at, tag: m[2]! };
}

function tagOf(idKey: KeyObject, plaintext: Uint8Array): string {
  return createHmac('sha256', idKey).update(TAG_DOMAIN).update(plaintext).digest().subarray(0, TAG_BYTES).toString('hex');
}

/** The object's plaintext and the key it is stored under. */
export function encodeAuditEntry(entry: AuditEntryObject, idKey: KeyObject): { key: string; plaintext: Buffer } {
  const parsed = entrySchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'entry';
    throw new InvalidInputError(`audit entry: ${field}: ${issue?.message}`, field);
  }
  const plaintext = Buffer.from(JSON.stringify(parsed.data));
  // Half the reader's limit: the envelope and its seal add a few bytes, zstd none (it is skipped when it would not save).
  if (plaintext.byteLength > MAX_AUDIT_OBJECT_BYTES / 2) throw new InvalidInputError(`audit entry of ${plaintext.byteLength} bytes is too long`, 'details');
  return { key: `${AUDIT_PREFIX}${auditTimeStamp(entry.at)}-${tagOf(idKey, plaintext)}`, plaintext };
}

/**
 * Checks the plaintext against the name it was read under: the keyed tag (damage, or a change
 * by someone without the keys) and the time (an entry stored under another time's name).
 */
export function decodeAuditEntry(plaintext: Uint8Array, key: string, idKey: KeyObject): AuditEntryObject {
  const name = parseAuditKey(key);
  if (!name) throw new CorruptDataError(`${key} is not an audit entry's name`, { object: key });
  if (tagOf(idKey, plaintext) !== name.tag) throw new CorruptDataError(`audit entry ${key} does not match its name: altered or damaged`, { object: key });
  const entry = parseJsonObject(plaintext, entrySchema, `audit entry ${key}`, { object: key });
  if (auditTimeStamp(entry.at) !== auditTimeStamp(name.at))
    throw new CorruptDataError(`audit entry ${key} says ${entry.at}, its name another time`, { object: key });
  return entry;
}
