/**
 * A hash set of 32-byte ids in flat typed arrays: open addressing over slots that point into a
 * packed id store. Blob ids are keyed hashes, uniformly random, so their first four bytes serve
 * as the hash. Compared with a Map keyed by strings this costs ~40 bytes instead of ~100 per id
 * and no string or object per lookup: the archive looks up every chunk of a volume here.
 *
 * A table may keep only the first `keyBytes` of each id (see RecentIds for why that is safe
 * there), and may be sized for a known number of ids up front so that it never grows.
 */
import { ID_BYTES } from '../format/ids.js';

export interface IdTableOptions {
  /** Bytes of each id kept and compared: its prefix. @defaultValue ID_BYTES (the whole id) */
  keyBytes?: number;
  /**
   * Ids the table is sized for at once: no growth (and no outgrown arrays left to the garbage
   * collector) up to this count. The store's pages become resident only as ids fill them.
   */
  presize?: number;
}

export class IdTable {
  private readonly keyBytes: number;
  private store: Uint8Array;
  /**
   * Entry number + 1 per slot; 0 is empty. Zero as the empty mark lets fresh slots stay the
   * zero pages they were allocated as: a table sized for a large archive costs a small one
   * only the pages it touches.
   */
  private slots: Int32Array;
  private mask: number;
  count = 0;

  constructor(options: IdTableOptions = {}) {
    this.keyBytes = options.keyBytes ?? ID_BYTES;
    if (this.keyBytes < 4 || this.keyBytes > ID_BYTES) throw new RangeError(`keyBytes must be 4..${ID_BYTES}, got ${this.keyBytes}`);
    const ids = Math.max(1024, options.presize ?? 0);
    // Slots stay at most half full (the growth rule in insert): twice the ids, to a power of two.
    const slots = 2 ** Math.ceil(Math.log2(ids * 2));
    this.store = new Uint8Array(ids * this.keyBytes);
    this.slots = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** Entry number of the id at `ids[offset..offset+32)`, or -1. */
  find(ids: Uint8Array, offset: number): number {
    let s = this.hash(ids, offset) & this.mask;
    for (;;) {
      const e = this.slots[s]! - 1;
      if (e < 0) return -1;
      if (this.equals(e, ids, offset)) return e;
      s = (s + 1) & this.mask;
    }
  }

  /** Adds the id unless present; returns its entry number and whether it was added. */
  insert(ids: Uint8Array, offset: number): { entry: number; added: boolean } {
    const r = this.put(ids, offset);
    return r >= 0 ? { entry: r, added: true } : { entry: -1 - r, added: false };
  }

  /** Adds the id unless present: true when it was added. Allocates nothing, for bulk loads. */
  add(ids: Uint8Array, offset: number): boolean {
    return this.put(ids, offset) >= 0;
  }

  /** The new entry's number, or -1 - the number of the entry that holds the id already. */
  private put(ids: Uint8Array, offset: number): number {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    let s = this.hash(ids, offset) & this.mask;
    for (;;) {
      const e = this.slots[s]! - 1;
      if (e < 0) break;
      if (this.equals(e, ids, offset)) return -1 - e;
      s = (s + 1) & this.mask;
    }
    const entry = this.count++;
    const k = this.keyBytes;
    if (entry * k >= this.store.length) {
      const next = new Uint8Array(this.store.length * 2);
      next.set(this.store);
      this.store = next;
    }
    // Byte by byte: a subarray per id (an object for the collector) cost more than the copy.
    const store = this.store;
    const base = entry * k;
    for (let i = 0; i < k; i++) store[base + i] = ids[offset + i]!;
    this.slots[s] = entry + 1;
    return entry;
  }

  /** Forgets every id but keeps the memory, so a table refilled to the same size allocates nothing. */
  clear(): void {
    this.slots.fill(0);
    this.count = 0;
  }

  /** The id (or its kept prefix) stored as `entry` (a view; copy it to keep it). */
  id(entry: number): Uint8Array {
    return this.store.subarray(entry * this.keyBytes, (entry + 1) * this.keyBytes);
  }

  private hash(ids: Uint8Array, o: number): number {
    return (ids[o]! | (ids[o + 1]! << 8) | (ids[o + 2]! << 16) | (ids[o + 3]! << 24)) >>> 0;
  }

  private equals(entry: number, ids: Uint8Array, offset: number): boolean {
    const k = this.keyBytes;
    const base = entry * k;
    for (let i = 0; i < k; i++) if (this.store[base + i] !== ids[offset + i]) return false;
    return true;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      let s = this.hash(this.store, e * this.keyBytes) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = e + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
