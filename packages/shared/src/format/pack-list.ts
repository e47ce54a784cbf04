/**
 * Pack lists (packlists/<64 hex random>): the packs holding every blob one snapshot references
 * (its data chunks and its manifest nodes) when it was archived, with their lengths. A restore
 * reads the headers of just these packs instead of the whole repository's index, so its cost
 * follows the snapshot, not the repository. The list is a hint: prune may move blobs to other
 * packs since, and a reader that misses a blob in the listed packs looks it up in the index.
 *
 * Payload: "SFPL" | u32 count | (packId (32) | u64 packLength)*, in precedence order: a blob that
 * two listed packs hold is read from the one listed first. Writers list the packs that keep the
 * snapshot's data together (its own, its parent's taken over, a layout's) ahead of packs a
 * deduplication hit added, which hold a few of its blobs among many of other snapshots'. Lists
 * written before this rule are sorted by pack id, which readers take as an arbitrary order.
 */
import { randomBytes } from 'node:crypto';
import { CorruptDataError } from '../errors.js';
import { ID_BYTES } from './ids.js';

const MAGIC = Buffer.from('SFPL');
const ENTRY_BYTES = ID_BYTES + 8;

export const PACK_LISTS_PREFIX = 'packlists/';

export interface ListedPack {
  packId: string;
  packLength: number;
}

/** A new pack list's key: random, so two snapshots never share (or delete) each other's list. */
export function newPackListKey(): string {
  return `${PACK_LISTS_PREFIX}${randomBytes(32).toString('hex')}`;
}

export function packListKey(id: string): string {
  return `${PACK_LISTS_PREFIX}${id}`;
}

/** Encodes the packs in the order given (their precedence), each once: the first mention counts. */
export function encodePackList(packs: readonly ListedPack[]): Buffer {
  const first = new Map<string, ListedPack>();
  for (const p of packs) if (!first.has(p.packId)) first.set(p.packId, p);
  const ordered = [...first.values()];
  const out = Buffer.allocUnsafe(8 + ordered.length * ENTRY_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(ordered.length, 4);
  ordered.forEach((p, i) => {
    const at = 8 + i * ENTRY_BYTES;
    Buffer.from(p.packId, 'hex').copy(out, at);
    out.writeBigUInt64LE(BigInt(p.packLength), at + ID_BYTES);
  });
  return out;
}

export function decodePackList(buf: Buffer, what: string): ListedPack[] {
  if (buf.length < 8 || !buf.subarray(0, 4).equals(MAGIC)) throw new CorruptDataError(`${what}: no SFPL magic`, { object: what });
  const count = buf.readUInt32LE(4);
  if (buf.length !== 8 + count * ENTRY_BYTES) throw new CorruptDataError(`${what}: ${buf.length} bytes for ${count} packs`, { object: what });
  const out: ListedPack[] = [];
  for (let i = 0; i < count; i++) {
    const at = 8 + i * ENTRY_BYTES;
    const packId = buf.subarray(at, at + ID_BYTES).toString('hex');
    const packLength = Number(buf.readBigUInt64LE(at + ID_BYTES));
    // Past 2^53 the number is no longer exact (and no store holds such an object): damage.
    if (!Number.isSafeInteger(packLength))
      throw new CorruptDataError(`${what}: pack ${packId} has an impossible length ${buf.readBigUInt64LE(at + ID_BYTES)}`, { object: what });
    out.push({ packId, packLength });
  }
  return out;
}
