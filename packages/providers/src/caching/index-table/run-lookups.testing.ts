/**
 * The lookup cases a run must answer the same way whichever path answers them (the native
 * addon's runFind and runFindBatch, or RunReader's JavaScript): run-reader.test.ts and
 * run-reader-js.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { RECORD_BYTES } from './run-format.js';
import { RunReader } from './run-reader.js';
import { RunWriter, sortRecords } from './run-writer.js';

const idOf = (n: number) => createHash('sha256').update(`blob ${n}`).digest();
const packIdOf = (n: number) => createHash('sha256').update(`pack ${n}`).digest('hex');

/**
 * 5,000 blobs in 50 packs; every tenth blob is also stored in a second pack (the records of one
 * id sit side by side), and one bucket is crowded past the reader's first scratch buffer. After
 * each exclusion, a batch of every id (findBatch) must answer as `find` does one by one.
 */
export async function checkRunLookups(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-run-'));
  try {
    const packs = Array.from({ length: 50 }, (_, i) => ({ packId: packIdOf(i), packLength: 1000 + i }));
    const home = new Map<number, number[]>();
    const records: Buffer[] = [];
    const add = (blob: number, pack: number, id = idOf(blob)) => {
      const r = Buffer.alloc(RECORD_BYTES);
      id.copy(r);
      r.writeUInt32LE(pack, 32);
      records.push(r);
      home.set(blob, [...(home.get(blob) ?? []), pack]);
    };
    for (let b = 0; b < 5000; b++) {
      add(b, b % 50);
      if (b % 10 === 0) add(b, (b + 7) % 50);
    }
    // 200 ids sharing their first four bytes: one bucket far larger than 64 records.
    const crowd = Array.from({ length: 200 }, (_, i) => {
      const id = idOf(100_000 + i);
      id.writeUInt32BE(0x12345678, 0);
      return id;
    });
    crowd.forEach((id, i) => add(100_000 + i, i % 50, id));
    const file = join(dir, 'run');
    const writer = new RunWriter(file, records.length);
    const sorted = sortRecords(Buffer.concat(records), records.length, writer.bits);
    for (let i = 0; i < records.length; i++) writer.add(sorted, i * RECORD_BYTES, sorted.readUInt32LE(i * RECORD_BYTES + 32));
    writer.finish(packs);

    const reader = RunReader.open(file);
    if (typeof reader === 'string') throw new Error(reader);
    try {
      const lookup = (id: Buffer) => {
        const ids = Buffer.concat([Buffer.alloc(32, 0xee), id]); // at an offset, as archives pass them
        return reader.find(ids, 32);
      };
      const everyId = [...home.keys()].map((b) => (b >= 100_000 ? crowd[b - 100_000]! : idOf(b)));
      for (let b = 5000; b < 5100; b++) everyId.push(idOf(b));
      const crowdedAbsent = idOf(99);
      crowdedAbsent.writeUInt32BE(0x12345678, 0);
      everyId.push(crowdedAbsent);
      /** The batch of every id, one id apart with a stray id first, against `find` of each. */
      const batchAgrees = async () => {
        const ids = Buffer.concat([Buffer.alloc(32, 0xee), ...everyId]);
        const offsets = Uint32Array.from(everyId, (_, k) => 32 + k * 32);
        const out = new Int32Array(offsets.length).fill(-99);
        await reader.findBatch(ids, offsets, out);
        const one = Array.from(offsets, (o) => reader.find(ids, o));
        expect(Array.from(out)).toEqual(one);
        return one.filter((o) => o >= 0).length;
      };
      expect(await batchAgrees()).toBe(home.size);

      for (const [blob, where] of home) {
        const id = blob >= 100_000 ? crowd[blob - 100_000]! : idOf(blob);
        expect(where).toContain(lookup(id));
      }
      for (let b = 5000; b < 6000; b++) expect(lookup(idOf(b))).toBe(-1);
      expect(lookup(crowdedAbsent)).toBe(-1);

      // Every blob of pack 0 (b % 50 == 0, so b % 10 == 0) also lives in pack 7: with pack 0
      // excluded they are found there; with pack 7 excluded too they are absent, and pack 7's
      // blobs with no second home with them.
      reader.exclude(new Set([packIdOf(0)]));
      for (const b of [0, 50, 100, 1050, 4950]) expect(lookup(idOf(b))).toBe(7);
      // All found but the four crowded ids in pack 0, which have no second home.
      expect(await batchAgrees()).toBe(home.size - 4);
      reader.exclude(new Set([packIdOf(0), packIdOf(7)]));
      for (const b of [0, 50, 4950, 7, 57]) expect(lookup(idOf(b))).toBe(-1);
      expect(lookup(idOf(8))).toBe(8);
      expect(await batchAgrees()).toBeLessThan(home.size);
      // By ordinal, as dead packs are skipped; an exclusion replaces the previous one.
      reader.exclude(new Set(), (ordinal) => ordinal === 8);
      expect(lookup(idOf(8))).toBe(-1);
      expect([0, 7]).toContain(lookup(idOf(50)));
      await batchAgrees();
    } finally {
      reader.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
