/** The refreshed table as archives use it: each lookup asks the runs in order (host-index-table.ts). */
import type { DedupIndex, DedupIndexStats, ListedPack } from '@snapfleet/shared';
import type { OpenRun } from './table-state.js';

export class OpenTable implements DedupIndex {
  readonly stats: DedupIndexStats;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly runs: OpenRun[],
    objectsRead: number,
  ) {
    this.stats = {
      entries: runs.reduce((n, r) => n + r.reader.records, 0),
      runs: runs.length,
      bytes: runs.reduce((n, r) => n + r.reader.bytes, 0),
      residentRuns: runs.filter((r) => r.reader.isResident).length,
      residentEntries: runs.reduce((n, r) => n + (r.reader.isResident ? r.reader.records : 0), 0),
      objectsRead,
    };
  }

  find(ids: Uint8Array, offset: number): ListedPack | undefined {
    for (const r of this.runs) {
      const ordinal = r.reader.find(ids, offset);
      if (ordinal >= 0) return r.reader.pack(ordinal);
    }
    return undefined;
  }

  /**
   * `find` for the id at each of `offsets` in `ids`, off the calling thread where the addon
   * loads: each run answers the ids the runs before it did not, in one batch.
   */
  async findMany(ids: Uint8Array, offsets: Uint32Array): Promise<(ListedPack | undefined)[]> {
    const found = new Array<ListedPack | undefined>(offsets.length).fill(undefined);
    let asked = Uint32Array.from(offsets);
    let slots = Uint32Array.from(offsets.keys());
    for (const r of this.runs) {
      if (asked.length === 0) break;
      if (this.closed) throw new Error('the index table was closed while lookups were under way');
      const out = new Int32Array(asked.length);
      const batch = r.reader.findBatch(ids, asked, out);
      this.inFlight.add(batch);
      try {
        await batch;
      } finally {
        this.inFlight.delete(batch);
      }
      let missed = 0;
      for (let k = 0; k < asked.length; k++) {
        if (out[k]! >= 0) found[slots[k]!] = r.reader.pack(out[k]!);
        else {
          asked[missed] = asked[k]!;
          slots[missed++] = slots[k]!;
        }
      }
      asked = asked.subarray(0, missed);
      slots = slots.subarray(0, missed);
    }
    return found;
  }

  hasPack(packId: string): boolean {
    return this.runs.some((r) => r.reader.hasPack(packId));
  }

  async close(): Promise<void> {
    // A batch on the thread pool reads the runs' files: they stay open until it is done.
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    for (const r of this.runs) r.reader.close();
    this.runs.length = 0;
  }
}
