/** The refreshed table as archives use it: each lookup asks the runs in order (host-index-table.ts). */
import type { DedupIndex, DedupIndexStats, ListedPack } from '@snapfleet/shared';
import type { OpenRun } from './table-state.js';

export class OpenTable implements DedupIndex {
  readonly stats: DedupIndexStats;

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

  hasPack(packId: string): boolean {
    return this.runs.some((r) => r.reader.hasPack(packId));
  }

  async close(): Promise<void> {
    for (const r of this.runs) r.reader.close();
    this.runs.length = 0;
  }
}
