/** The records of runs being built from index objects, before they are sorted and written. */
import { ID_BYTES, type IndexedPack, type ListedPack } from '@snapfleet/shared';
import { RECORD_BYTES } from './run-format.js';

/** The records of one run being built, unsorted, with their packs and source objects. */
export class RunBatch {
  buffer = Buffer.alloc(0);
  records = 0;
  readonly packs: ListedPack[] = [];
  readonly sources: string[] = [];
  /** Per pack, its source's index in `sources`. */
  readonly owners: number[] = [];

  add(source: string, packs: readonly IndexedPack[]): void {
    const owner = this.sources.push(source) - 1;
    const need = (this.records + blobsOf(packs)) * RECORD_BYTES;
    if (need > this.buffer.byteLength) {
      const next = Buffer.alloc(Math.max(need, this.buffer.byteLength * 2));
      this.buffer.copy(next, 0, 0, this.records * RECORD_BYTES);
      this.buffer = next;
    }
    for (const pack of packs) {
      const ordinal = this.packs.length;
      this.packs.push({ packId: pack.packId, packLength: pack.packLength });
      this.owners.push(owner);
      for (const f of pack.frames) {
        for (let i = 0; i < f.lengths.length; i++) {
          const at = this.records++ * RECORD_BYTES;
          this.buffer.set(f.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES), at);
          this.buffer.writeUInt32LE(ordinal, at + ID_BYTES);
        }
      }
    }
  }
}

export function blobsOf(packs: readonly IndexedPack[]): number {
  let n = 0;
  for (const p of packs) for (const f of p.frames) n += f.lengths.length;
  return n;
}
