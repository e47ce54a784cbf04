/**
 * A hash set of 32-byte ids in flat typed arrays: open addressing over slots that point into a
 * packed id store. Blob ids are keyed hashes, uniformly random, so their first four bytes serve
 * as the hash. Compared with a Map keyed by strings this costs ~40 bytes instead of ~100 per id
 * and no string or object per lookup: the archive looks up every chunk of a volume here.
 */
import { ID_BYTES } from '../format/ids.js';

export class IdTable {
  private store = new Uint8Array(1024 * ID_BYTES);
  private slots = new Int32Array(2048).fill(-1);
  private mask = 2047;
  count = 0;

  /** Entry number of the id at `ids[offset..offset+32)`, or -1. */
  find(ids: Uint8Array, offset: number): number {
    let s = this.hash(ids, offset) & this.mask;
    for (;;) {
      const e = this.slots[s]!;
      if (e < 0) return -1;
      if (this.equals(e, ids, offset)) return e;
      s = (s + 1) & this.mask;
    }
  }

  /** Adds the id unless present; returns its entry number and whether it was added. */
  insert(ids: Uint8Array, offset: number): { entry: number; added: boolean } {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    let s = this.hash(ids, offset) & this.mask;
    for (;;) {
      const e = this.slots[s]!;
      if (e < 0) break;
      if (this.equals(e, ids, offset)) return { entry: e, added: false };
      s = (s + 1) & this.mask;
    }
    const entry = this.count++;
    if (entry * ID_BYTES >= this.store.length) {
      const next = new Uint8Array(this.store.length * 2);
      next.set(this.store);
      this.store = next;
    }
    this.store.set(ids.subarray(offset, offset + ID_BYTES), entry * ID_BYTES);
    this.slots[s] = entry;
    return { entry, added: true };
  }

  /** Forgets every id but keeps the memory, so a table refilled to the same size allocates nothing. */
  clear(): void {
    this.slots.fill(-1);
    this.count = 0;
  }

  /** The id stored as `entry` (a view; copy it to keep it). */
  id(entry: number): Uint8Array {
    return this.store.subarray(entry * ID_BYTES, (entry + 1) * ID_BYTES);
  }

  private hash(ids: Uint8Array, o: number): number {
    return (ids[o]! | (ids[o + 1]! << 8) | (ids[o + 2]! << 16) | (ids[o + 3]! << 24)) >>> 0;
  }

  private equals(entry: number, ids: Uint8Array, offset: number): boolean {
    const base = entry * ID_BYTES;
    for (let i = 0; i < ID_BYTES; i++) if (this.store[base + i] !== ids[offset + i]) return false;
    return true;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      let s = this.hash(this.store, e * ID_BYTES) & mask;
      while (slots[s]! >= 0) s = (s + 1) & mask;
      slots[s] = e;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
