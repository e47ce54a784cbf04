/**
 * Pack owners: for each pack of a run (by ordinal), which of the run's sources (index objects)
 * lists it now, or DEAD when none does any more. A run outlives the objects it was built from:
 * when compaction merges them, or prune rewrites one without some packs, a refresh reads only
 * the new objects and hands each pack over to the object that lists it now; the packs no new
 * object lists are dead, and lookups skip them. Without this, every compaction or prune that
 * touched a run's objects would make every host rebuild that run from the bucket.
 *
 * File: "SFOW", u32 version (1), u32 count, count x u32 owners (little-endian), then SHA-256 of
 * everything before it. Written once under a fresh name (state.json names the current one).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/** The owner of a pack no index object lists any more. */
export const DEAD = 0xffffffff;

const MAGIC = 'SFOW';
const VERSION = 1;
const HEADER_BYTES = 12;
const CHECKSUM_BYTES = 32;

export function writePackOwners(path: string, owners: Uint32Array, mode: number): void {
  const body = Buffer.alloc(HEADER_BYTES + owners.length * 4);
  body.write(MAGIC, 0, 'latin1');
  body.writeUInt32LE(VERSION, 4);
  body.writeUInt32LE(owners.length, 8);
  for (let i = 0; i < owners.length; i++) body.writeUInt32LE(owners[i]!, HEADER_BYTES + i * 4);
  writeFileSync(path, Buffer.concat([body, createHash('sha256').update(body).digest()]), { mode });
}

/** The owners of a run of `packs` packs with `sources` sources, or what is wrong with the file. */
export function readPackOwners(path: string, packs: number, sources: number): Uint32Array | string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message;
  }
  if (bytes.byteLength !== HEADER_BYTES + packs * 4 + CHECKSUM_BYTES)
    return `${bytes.byteLength} bytes, expected ${HEADER_BYTES + packs * 4 + CHECKSUM_BYTES} for ${packs} packs`;
  const body = bytes.subarray(0, bytes.byteLength - CHECKSUM_BYTES);
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(body.byteLength))) return 'checksum mismatch';
  if (body.toString('latin1', 0, 4) !== MAGIC || body.readUInt32LE(4) !== VERSION || body.readUInt32LE(8) !== packs)
    return 'not a pack owners file of this run';
  const owners = new Uint32Array(packs);
  for (let i = 0; i < packs; i++) {
    const o = body.readUInt32LE(HEADER_BYTES + i * 4);
    if (o !== DEAD && o >= sources) return `pack ${i} names source ${o} of ${sources}`;
    owners[i] = o;
  }
  return owners;
}

/**
 * The sources and owners of a run merged from `inputs`: its packs are the inputs' one after
 * another, so their owners follow them, renumbered into the merged run's sources (each input's
 * sources once, in order of first use; dead packs stay dead).
 */
export function mergeOwners(inputs: readonly { sources: readonly string[]; owners: Uint32Array }[]): { sources: string[]; owners: Uint32Array } {
  const sources: string[] = [];
  const at = new Map<string, number>();
  const owners: number[] = [];
  for (const r of inputs) {
    for (const o of r.owners) {
      if (o === DEAD) {
        owners.push(DEAD);
        continue;
      }
      const key = r.sources[o]!;
      let i = at.get(key);
      if (i === undefined) at.set(key, (i = sources.push(key) - 1));
      owners.push(i);
    }
    for (const key of r.sources) if (!at.has(key)) at.set(key, sources.push(key) - 1);
  }
  return { sources, owners: Uint32Array.from(owners) };
}
