import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Compression, BlobType, TransientError, type IndexObjectView, type IndexedPack } from '@snapfleet/shared';
import { HostIndexTable } from './host-index-table.js';

/** A pack of `blobs` random ids in one frame (or the given ids). */
function pack(blobs: number, ids: Buffer = randomBytes(blobs * 32)): IndexedPack {
  const n = ids.byteLength / 32;
  return {
    packId: randomBytes(32).toString('hex'),
    packLength: 1000 + n,
    frames: [{ type: BlobType.Data, compression: Compression.Zstd, storedLength: 100, rawLength: n * 4096, ids, lengths: new Uint32Array(n).fill(4096) }],
  };
}

/** Index objects held in a Map, the way a repository lists and reads them. */
class Objects implements IndexObjectView {
  readonly repositoryId = 'a'.repeat(32);
  readonly objects = new Map<string, IndexedPack[]>();
  reads = 0;
  /** Keys to report gone once, as if compaction deleted them between listing and read. */
  readonly vanishOnce = new Set<string>();

  add(packs: IndexedPack[]): string {
    const key = `index/${randomBytes(32).toString('hex')}`;
    this.objects.set(key, packs);
    return key;
  }

  list(): Promise<string[]> {
    return Promise.resolve([...this.objects.keys()]);
  }

  read(key: string): Promise<IndexedPack[] | undefined> {
    if (this.vanishOnce.delete(key)) return Promise.resolve(undefined);
    this.reads++;
    return Promise.resolve(this.objects.get(key));
  }
}

function idsOf(packs: IndexedPack[]): { id: Buffer; packId: string }[] {
  return packs.flatMap((p) =>
    p.frames.flatMap((f) => Array.from({ length: f.lengths.length }, (_, i) => ({ id: Buffer.from(f.ids.subarray(i * 32, (i + 1) * 32)), packId: p.packId }))),
  );
}

/** A table's open, which must succeed here (undefined means its folder was unusable). */
async function opened(table: HostIndexTable, view: IndexObjectView, options?: { exclude?: ReadonlySet<string> }) {
  const t = await table.open(view, options);
  if (!t) throw new Error('the host index table could not be used');
  return t;
}

describe('HostIndexTable', () => {
  let root: string;
  let warnings: string[];
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'snapfleet-table-'));
    warnings = [];
  });
  afterEach(() => rm(root, { recursive: true, force: true }));
  const table = (options: { buildRecords?: number; maxDiskRuns?: number; residentRunRecords?: number } = {}) =>
    new HostIndexTable({ dir: root, onWarning: (m) => warnings.push(m), ...options });

  it('finds every indexed blob in its pack, and nothing else', async () => {
    const view = new Objects();
    const packs = [pack(3000), pack(5), pack(1)];
    view.add(packs.slice(0, 2));
    view.add(packs.slice(2));
    const t = await opened(table(), view);
    expect(t.stats).toMatchObject({ entries: 3006, runs: 1, objectsRead: 2 });
    for (const { id, packId } of idsOf(packs)) expect(t.find(id, 0)?.packId).toBe(packId);
    for (const p of packs) expect(t.hasPack(p.packId)).toBe(true);
    expect(t.hasPack('f'.repeat(64))).toBe(false);
    // Absent ids, including one sharing a long prefix with a present one.
    const near = Buffer.from(idsOf(packs)[0]!.id);
    near[31] = near[31]! ^ 1;
    expect(t.find(near, 0)).toBeUndefined();
    for (let i = 0; i < 1000; i++) expect(t.find(randomBytes(32), 0)).toBeUndefined();
    // An id at an offset inside a larger buffer.
    const { id, packId } = idsOf(packs)[42]!;
    expect(t.find(Buffer.concat([randomBytes(64), id]), 64)?.packId).toBe(packId);
    expect(packs.map((p) => t.find(idsOf([p])[0]!.id, 0)?.packLength)).toEqual(packs.map((p) => p.packLength));
    await t.close();
  });

  it('skips excluded (condemned) packs, finding a blob in another pack that holds it too', async () => {
    const view = new Objects();
    const shared = randomBytes(32 * 10);
    const condemned = pack(0, shared);
    const repacked = pack(0, Buffer.from(shared.subarray(0, 5 * 32)));
    view.add([condemned]);
    view.add([repacked]);
    const t = await opened(table(), view, { exclude: new Set([condemned.packId]) });
    for (let i = 0; i < 10; i++) expect(t.find(shared, i * 32)?.packId, `blob ${i}`).toBe(i < 5 ? repacked.packId : undefined);
    await t.close();
  });

  it('answers a batch (findMany) as find answers each id, across runs on disk and excluded packs', async () => {
    const view = new Objects();
    const shared = randomBytes(32 * 20);
    const condemned = pack(0, shared);
    const elsewhere = pack(0, Buffer.from(shared.subarray(0, 10 * 32)));
    const all = [pack(400), condemned];
    view.add(all.slice());
    await (await opened(table({ residentRunRecords: 0 }), view)).close();
    // Two more refreshes: the table's answers span three runs read from disk.
    for (const added of [[pack(300), elsewhere], [pack(250)]]) {
      all.push(...added);
      view.add(added);
      await (await opened(table({ residentRunRecords: 0 }), view)).close();
    }
    const t = await opened(table({ residentRunRecords: 0 }), view, { exclude: new Set([condemned.packId]) });
    expect(t.stats.runs).toBeGreaterThan(1);
    expect(t.stats.residentRuns).toBe(0);
    const present = idsOf(all).map((e) => e.id);
    const ids = Buffer.concat([randomBytes(32), ...present, ...Array.from({ length: 300 }, () => randomBytes(32))]);
    const offsets = Uint32Array.from({ length: ids.byteLength / 32 - 1 }, (_, k) => 32 + k * 32);
    const packs = await t.findMany(ids, offsets);
    expect(packs.map((p) => p?.packId)).toEqual(Array.from(offsets, (o) => t.find(ids, o)?.packId));
    // Found: all but the condemned pack's ten blobs with no other home; the random ids are not.
    expect(packs.filter(Boolean).length).toBe(present.length - 10);
    expect(packs.slice(present.length).every((p) => p === undefined)).toBe(true);
    // Closing while batches are under way waits for them: each settles, none reads a closed file.
    const running = Promise.allSettled([t.findMany(ids, offsets), t.findMany(ids, offsets.subarray(0, 5))]);
    await t.close();
    for (const r of await running) {
      if (r.status === 'rejected') expect(String(r.reason)).toMatch(/closed while lookups were under way/);
      else expect(r.value.map((p) => p?.packId)).toEqual(packs.slice(0, r.value.length).map((p) => p?.packId));
    }
  });

  it('reads only new objects on a refresh, and drops what compaction or prune removed', async () => {
    const view = new Objects();
    const a = [pack(100)];
    const b = [pack(200)];
    const ka = view.add(a);
    const kb = view.add(b);
    await (await opened(table(), view)).close();
    const c = [pack(50)];
    view.add(c);
    view.reads = 0;
    let t = await opened(table(), view);
    expect(t.stats).toMatchObject({ entries: 350, objectsRead: 1 });
    expect(view.reads).toBe(1);
    await t.close();

    // Nothing new: no object read.
    view.reads = 0;
    t = await opened(table(), view);
    expect(t.stats.objectsRead).toBe(0);
    await t.close();

    // Compaction: a and b merged into one object, then deleted.
    view.add([...a, ...b]);
    view.objects.delete(ka);
    view.objects.delete(kb);
    t = await opened(table(), view);
    for (const { id, packId } of idsOf([...a, ...b, ...c])) expect(t.find(id, 0)?.packId).toBe(packId);
    expect(t.stats.entries).toBe(350);
    await t.close();

    // Prune deleted pack c: its object is gone, and so are its blobs from the table.
    const kc = [...view.objects].find(([, v]) => v === c)![0];
    view.objects.delete(kc);
    t = await opened(table(), view);
    for (const { id } of idsOf(c)) expect(t.find(id, 0)).toBeUndefined();
    expect(t.hasPack(c[0]!.packId)).toBe(false);
    expect(t.stats.entries).toBe(300);
    await t.close();
    expect(warnings).toEqual([]);
  });

  it('outlives compaction: the merged objects are read, their packs handed over, no run rebuilt', async () => {
    const view = new Objects();
    const a = [pack(3000), pack(100)];
    const b = [pack(2000)];
    const ka = view.add(a);
    const kb = view.add(b);
    const folder = table().folderOf(view.repositoryId);
    await (await opened(table(), view)).close();

    // Compaction as it runs: merged object stored, then its inputs deleted. A refresh between
    // the two reads the merged object while its inputs are still listed.
    const km = view.add([...a, ...b]);
    let t = await opened(table(), view);
    await t.close();
    view.objects.delete(ka);
    view.objects.delete(kb);
    view.reads = 0;
    t = await opened(table(), view);
    expect(view.reads).toBe(0); // the merged object was read already
    for (const { id, packId } of idsOf([...a, ...b])) expect(t.find(id, 0)?.packId).toBe(packId);
    await t.close();
    const runFiles = async () => (JSON.parse(await readFile(join(folder, 'state.json'), 'utf8')) as { runs: { file: string; sources: string[] }[] }).runs;
    const runsBefore = (await runFiles()).map((r) => r.file);

    // A compaction no refresh straddles: the new object is read once, and nothing is rebuilt.
    const kn = view.add([...a, ...b]);
    view.objects.delete(km);
    view.reads = 0;
    t = await opened(table(), view);
    expect(view.reads).toBe(1);
    expect(t.stats.objectsRead).toBe(1);
    for (const { id, packId } of idsOf([...a, ...b])) expect(t.find(id, 0)?.packId).toBe(packId);
    for (const p of [...a, ...b]) expect(t.hasPack(p.packId)).toBe(true);
    await t.close();
    const runs = await runFiles();
    expect(runs.map((r) => r.file)).toEqual(runsBefore); // the same run files: nothing rebuilt
    expect(runs.flatMap((r) => r.sources)).toEqual([kn]);
    expect(warnings).toEqual([]);
  });

  it('marks dead the packs prune took out of an object, and rewrites a run more than half dead', async () => {
    const view = new Objects();
    const keep = pack(500);
    const gone = [pack(400), pack(300), pack(200)];
    const k = view.add([keep, ...gone]);
    const folder = table().folderOf(view.repositoryId);
    await (await opened(table(), view)).close();
    const [runBefore] = (await readdir(folder)).filter((f) => f.endsWith('.sfrt'));

    // Prune drops one pack: the object is rewritten under a new name without it.
    const k2 = view.add([keep, ...gone.slice(1)]);
    view.objects.delete(k);
    let t = await opened(table(), view);
    for (const { id } of idsOf([gone[0]!])) expect(t.find(id, 0)).toBeUndefined();
    expect(t.hasPack(gone[0]!.packId)).toBe(false);
    for (const { id, packId } of idsOf([keep, ...gone.slice(1)])) expect(t.find(id, 0)?.packId).toBe(packId);
    expect(t.stats.entries).toBe(1400); // one of four packs dead: its records stay for now
    await t.close();

    // Two more go: three of four packs dead, and the run is rewritten with the live one only.
    view.add([keep]);
    view.objects.delete(k2);
    t = await opened(table(), view);
    expect(t.stats.entries).toBe(500);
    for (const { id, packId } of idsOf([keep])) expect(t.find(id, 0)?.packId).toBe(packId);
    for (const { id } of idsOf(gone)) expect(t.find(id, 0)).toBeUndefined();
    await t.close();
    const state = JSON.parse(await readFile(join(folder, 'state.json'), 'utf8')) as { runs: { file: string }[] };
    expect(state.runs.map((r) => r.file)).not.toContain(runBefore);

    // A pack prune took out and adoption put back (its own index object) is found again.
    view.add([gone[0]!]);
    t = await opened(table(), view);
    for (const { id, packId } of idsOf([gone[0]!])) expect(t.find(id, 0)?.packId).toBe(packId);
    await t.close();
    expect(warnings).toEqual([]);
  });

  it('keeps at most maxDiskRuns runs on disk by merging, whatever number of refreshes added objects', async () => {
    const view = new Objects();
    const all: IndexedPack[] = [];
    const options = { buildRecords: 200, maxDiskRuns: 2, residentRunRecords: 400 };
    for (let round = 0; round < 12; round++) {
      const added = [pack(300 + round), pack(7)];
      all.push(...added);
      view.add(added);
      const t = await opened(table(options), view);
      expect(t.stats.runs - t.stats.residentRuns).toBeLessThanOrEqual(2);
      expect(t.stats.entries).toBe(all.reduce((n, p) => n + p.frames[0]!.lengths.length, 0));
      await t.close();
    }
    const t = await opened(table(options), view);
    expect(t.stats.objectsRead).toBe(0);
    for (const { id, packId } of idsOf(all)) expect(t.find(id, 0)?.packId).toBe(packId);
    await t.close();
    // Merged runs are left to the sweep (another process may still read them); the state names only live ones.
    const state = JSON.parse(await readFile(join(table().folderOf(view.repositoryId), 'state.json'), 'utf8')) as { runs: { records: number }[] };
    expect(state.runs.filter((r) => r.records > 400).length).toBeLessThanOrEqual(2);
  });

  it('merges the runs of a refresh that read more than one batch into one', async () => {
    const view = new Objects();
    for (let i = 0; i < 5; i++) view.add([pack(100)]);
    const t = await opened(table({ buildRecords: 150, residentRunRecords: 0 }), view);
    expect(t.stats).toMatchObject({ runs: 1, residentRuns: 0, entries: 500, objectsRead: 5 });
    await t.close();
    const r = await opened(table({ residentRunRecords: 1000 }), view);
    expect(r.stats).toMatchObject({ runs: 1, residentRuns: 1, residentEntries: 500, objectsRead: 0 });
    for (const { id, packId } of idsOf([...view.objects.values()].flat())) expect(r.find(id, 0)?.packId).toBe(packId);
    await r.close();
  });

  it('sweeps run files no state names once they are an hour old', async () => {
    const view = new Objects();
    view.add([pack(10)]);
    const folder = table().folderOf(view.repositoryId);
    await (await opened(table({ buildRecords: 1, maxDiskRuns: 1, residentRunRecords: 0 }), view)).close();
    view.add([pack(10)]);
    await (await opened(table({ buildRecords: 1, maxDiskRuns: 1, residentRunRecords: 0 }), view)).close(); // merges: the old run is unreferenced
    const files = async () => (await readdir(folder)).filter((f) => f.endsWith('.sfrt'));
    expect((await files()).length).toBe(3);
    const later = new HostIndexTable({ dir: root, now: () => Date.now() + 2 * 60 * 60 * 1000 });
    await (await opened(later, view)).close();
    expect((await files()).length).toBe(1);
  });

  it('rebuilds a damaged or deleted run, and a damaged state, with a warning', async () => {
    const view = new Objects();
    const packs = [pack(2000)];
    view.add(packs);
    const folder = table().folderOf(view.repositoryId);
    await (await opened(table(), view)).close();
    const run = (await readdir(folder)).find((f) => f.endsWith('.sfrt'))!;
    const check = async () => {
      const t = await opened(table(), view);
      for (const { id, packId } of idsOf(packs)) expect(t.find(id, 0)?.packId).toBe(packId);
      await t.close();
    };

    await truncate(join(folder, run), 1000);
    await check();
    expect(warnings).toEqual([expect.stringContaining(`run ${run} is unusable`)]);

    const run2 = (await readdir(folder)).find((f) => f.endsWith('.sfrt') && f !== run)!;
    const bytes = await readFile(join(folder, run2));
    bytes[60] = bytes[60]! ^ 0xff; // inside the fanout
    await writeFile(join(folder, run2), bytes);
    warnings = [];
    await check();
    expect(warnings).toEqual([expect.stringContaining('checksum mismatch')]);

    const owners = (await readdir(folder)).filter((f) => f.endsWith('.sfow'));
    for (const f of owners) await truncate(join(folder, f), 20);
    warnings = [];
    await check();
    expect(warnings).toEqual([expect.stringMatching(/pack owners own-[0-9a-f]+\.sfow: 20 bytes/)]);

    await writeFile(join(folder, 'state.json'), '{"version":2,"runs":[{"file":"../x"}]}');
    warnings = [];
    await check();
    expect(warnings).toEqual([expect.stringContaining('state.json is damaged')]);

    // A table of an older release (no pack owners) is rebuilt without a warning.
    await writeFile(join(folder, 'state.json'), '{"version":1,"runs":[]}');
    warnings = [];
    await check();
    expect(warnings).toEqual([]);

    await rm(root, { recursive: true, force: true });
    warnings = [];
    await check(); // a removed cache is a first use: built again, nothing to warn about
    expect(warnings).toEqual([]);
  });

  it('lists again when an object vanishes between the listing and its read', async () => {
    const view = new Objects();
    const a = [pack(10)];
    const ka = view.add(a);
    view.vanishOnce.add(ka);
    const t = await opened(table(), view);
    for (const { id, packId } of idsOf(a)) expect(t.find(id, 0)?.packId).toBe(packId);
    await t.close();
  });
});

describe('HostIndexTable in an unusable folder', () => {
  it('warns once and answers undefined, so that archives load the index into memory', async () => {
    const root = await mkdtemp(join(tmpdir(), 'snapfleet-table-'));
    try {
      const blocked = join(root, 'not-a-folder');
      await writeFile(blocked, 'x');
      const warnings: string[] = [];
      const table = new HostIndexTable({ dir: blocked, onWarning: (m) => warnings.push(m) });
      const view = new Objects();
      view.add([pack(10)]);
      expect(await table.open(view)).toBeUndefined();
      expect(await table.open(view)).toBeUndefined();
      expect(warnings).toEqual([expect.stringMatching(new RegExp(`^host index table ${blocked}/index-table/a{32} cannot be used \\(.*ENOTDIR`))]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("passes the store's errors on", async () => {
    const root = await mkdtemp(join(tmpdir(), 'snapfleet-table-'));
    try {
      const view = new Objects();
      view.list = () => Promise.reject(new TransientError('store unreachable'));
      await expect(new HostIndexTable({ dir: root }).open(view)).rejects.toBeInstanceOf(TransientError);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
