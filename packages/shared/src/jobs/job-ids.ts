/**
 * Deterministic job ids: `${kind}-${policy}-${volume}-${slot}`. The same (policy, volume, slot)
 * always gives the same id, and BullMQ ignores a job whose id exists, so any number of planners
 * and a repeated tick enqueue each job once. BullMQ forbids ':' in custom ids and treats integer
 * ids as its own: parts are percent-encoded (':' -> %3A, and '-' in a policy name -> %2D so the
 * separators stay unambiguous), and every id starts with the kind, so it is never an integer.
 */
import { InvalidInputError } from '../errors.js';

/** Characters left as they are in a volume id; everything else is %XX (UTF-8). */
const VOLUME_SAFE = /[A-Za-z0-9._~-]/;
/** Policy names never contain '-' once encoded, so the first '-' after the kind ends the policy. */
const POLICY_SAFE = /[A-Za-z0-9._~]/;

function encodePart(text: string, safe: RegExp): string {
  if (!text) throw new InvalidInputError('job id part must not be empty', 'jobId');
  let out = '';
  for (const ch of text) {
    if (safe.test(ch)) out += ch;
    else for (const b of new TextEncoder().encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function encodeVolumeIdPart(volumeId: string): string {
  return encodePart(volumeId, VOLUME_SAFE);
}

export function encodePolicyPart(policy: string): string {
  return encodePart(policy, POLICY_SAFE);
}

/**
 * A schedule slot: the tick's time in ISO 8601 basic format, UTC (`20260131T020000Z`, with
 * `.250` milliseconds only when not zero). No '-' or ':' so it survives inside a job id.
 */
export function slotFromTime(time: Date): string {
  const iso = time.toISOString(); // 2026-01-31T02:00:00.000Z
  const basic = iso.replace(/[-:]/g, '');
  return basic.endsWith('.000Z') ? basic.replace('.000Z', 'Z') : basic;
}

/** The instant a slot names, or undefined when it names none (month 13, February 30th). */
function slotTime(slot: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\.\d{3})?Z$/.exec(slot);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const time = new Date(0);
  time.setUTCFullYear(year, month - 1, day);
  time.setUTCHours(hour, minute, second, m[7] ? Number(m[7].slice(1)) : 0);
  // Date rolls out-of-range fields over (month 13 is next January): such a slot names no instant.
  const exact =
    time.getUTCFullYear() === year &&
    time.getUTCMonth() === month - 1 &&
    time.getUTCDate() === day &&
    time.getUTCHours() === hour &&
    time.getUTCMinutes() === minute &&
    time.getUTCSeconds() === second;
  return exact ? time : undefined;
}

/** Whether `slot` is a slot that names a real instant. */
export function isValidSlot(slot: string): boolean {
  return slotTime(slot) !== undefined;
}

/** The instant a slot names. */
export function timeFromSlot(slot: string): Date {
  const time = slotTime(slot);
  if (!time) throw new InvalidInputError(`slot ${JSON.stringify(slot)} is not an ISO 8601 basic UTC time such as 20260131T020000Z`, 'slot');
  return time;
}

export const SLOT_PATTERN = /^\d{8}T\d{6}(\.\d{3})?Z$/;

export function volumeJobId(kind: 'snapshot' | 'archive' | 'retention', policy: string, volumeId: string, slot: string): string {
  if (!SLOT_PATTERN.test(slot)) throw new InvalidInputError(`slot ${JSON.stringify(slot)} is not an ISO 8601 basic UTC time`, 'slot');
  return `${kind}-${encodePolicyPart(policy)}-${encodeVolumeIdPart(volumeId)}-${slot}`;
}

/** `verify-${repository}-${slot}`: one verify per repository per schedule slot. */
export function verifyJobId(repository: string, slot: string): string {
  if (!SLOT_PATTERN.test(slot)) throw new InvalidInputError(`slot ${JSON.stringify(slot)} is not an ISO 8601 basic UTC time`, 'slot');
  return `verify-${encodePolicyPart(repository)}-${slot}`;
}

/** `orphans-${policy}-${volume}-${run}`: the orphans rule once per pair per search (`run`: the search job's id). */
export function orphanJobId(policy: string, volumeId: string, run: string): string {
  return `orphans-${encodePolicyPart(policy)}-${encodeVolumeIdPart(volumeId)}-${encodePolicyPart(run)}`;
}

/** The job scheduler id of a policy's i-th schedule (or a repository's verify schedule). */
export function schedulerId(kind: 'tick' | 'verify', name: string, index: number): string {
  return `${kind}-${encodePolicyPart(name)}-${index}`;
}

/** Tags every fleet snapshot carries, so a retried archive finds the snapshot of its slot. */
export function slotTag(slot: string): string {
  return `slot=${slot}`;
}

export function policyTag(policy: string): string {
  return `policy=${policy}`;
}

/** The slot a fleet snapshot's tags name (its `slot=` tag), if they name one. */
export function slotOfTags(tags: readonly string[]): string | undefined {
  const tag = tags.find((t) => t.startsWith('slot=') && SLOT_PATTERN.test(t.slice('slot='.length)));
  return tag?.slice('slot='.length);
}
