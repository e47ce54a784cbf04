/**
 * Which pack each live blob is taken from, when several hold it: the first pack added that holds
 * it. Prune decides with it which copy of a duplicated blob stays, and where a blob is after it.
 * One id and one reference per live blob, like the live set itself.
 */
import type { IndexedPack } from '../format/index-object.js';
import { ID_BYTES } from '../format/ids.js';
import type { ListedPack } from '../format/pack-list.js';
import { IdTable } from '../content/id-table.js';

export class Copies {
  private readonly table = new IdTable();
  private readonly owners: ListedPack[] = [];

  /** Records each live blob of `pack` that no pack added earlier holds, as held by this one. */
  add(pack: IndexedPack, live: IdTable): void {
    const at: ListedPack = { packId: pack.packId, packLength: pack.packLength };
    for (const f of pack.frames) {
      for (let o = 0; o < f.ids.byteLength; o += ID_BYTES) {
        if (live.find(f.ids, o) < 0) continue;
        const r = this.table.insert(f.ids, o);
        if (r.added) this.owners[r.entry] = at;
      }
    }
  }

  /** The pack the blob at `ids[offset..]` is taken from, or undefined when none was added. */
  find(ids: Uint8Array, offset: number): ListedPack | undefined {
    const e = this.table.find(ids, offset);
    return e < 0 ? undefined : this.owners[e];
  }
}
