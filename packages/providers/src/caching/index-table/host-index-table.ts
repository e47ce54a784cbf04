/**
 * HostIndexTable: the host's on-disk index of (blob id -> pack) for archives, built from the
 * repository's index objects and kept in step with them (ports/dedup-index.ts). One table per
 * repository per host, in the cache folder every process on the host shares.
 *
 * The table is a set of runs (run-format.ts), each built from a known set of index objects, its
 * sources, with the owner of each of its packs: the source that lists the pack now
 * (pack-owners.ts). state.json names the runs (table-state.ts). A refresh lists the index objects and
 * - reads the objects no run covers (sorted in memory a bounded batch at a time, the batches
 *   then merged from disk); a pack whose owner is gone (compaction merged it, prune rewrote it)
 *   and that a new object lists is handed over to that object, and every other pack goes into
 *   one new run;
 * - marks dead the packs whose owner is gone and that no new object lists (prune removed them
 *   from the index): lookups skip them, and a run more than half dead is rewritten without
 *   them. So compaction and prune cost a refresh the objects they wrote, not a rebuild;
 * - keeps runs of at most RESIDENT_RUN_RECORDS in memory (36 bytes a record) and merges them
 *   into one on disk once they hold RESIDENT_TOTAL_RECORDS together;
 * - merges the two smallest runs on disk while there are more than MAX_DISK_RUNS.
 * A lookup reads one bucket (one system call, ~600 bytes) of each run on disk and searches the
 * resident ones in memory: its cost depends on the number of runs, not on the records they hold.
 * A miss, the common case for new data, costs MAX_DISK_RUNS reads at most.
 *
 * The table is a cache: the bucket's index objects are the truth. A damaged or missing file is
 * reported, dropped and rebuilt from them; runs no state names (left by a process killed while
 * building, or by two processes refreshing at once, where the last state written wins) are
 * removed by a later refresh once an hour old.
 */
import { makeDirsSync } from '../../local/make-dirs.js';
import { join } from 'node:path';
import {
  ID_BYTES,
  SnapfleetError,
  TransientError,
  type DedupIndex,
  type DedupIndexCache,
  type DedupIndexOpenOptions,
  type IndexObjectView,
  type IndexedPack,
} from '@snapfleet/shared';
import { RECORD_BYTES, fanoutBitsFor } from './run-format.js';
import { RunReader } from './run-reader.js';
import { RunWriter, sortRecords } from './run-writer.js';
import { filterRun, mergeRuns, yieldToEventLoop } from './run-merge.js';
import { DEAD, mergeOwners, readPackOwners, writePackOwners } from './pack-owners.js';
import { sweepStaleFiles } from './stale-files.js';
import { OpenTable } from './open-table.js';
import { RunBatch, blobsOf } from './run-batch.js';
import {
  FILE_MODE,
  STATE_FILE,
  STATE_VERSION,
  newOwnersFile,
  newRunFile,
  readTableState,
  writeTableState,
  type OpenRun,
  type RunState,
  type TableState,
} from './table-state.js';

/** Runs on disk kept before the two smallest are merged: a lookup reads one bucket from each. */
export const DEFAULT_MAX_DISK_RUNS = 2;
/** A run this small (9 MiB of records) is read into memory when the table is opened. */
export const RESIDENT_RUN_RECORDS = 256 * 1024;
/** Records held in memory at most (36 MiB) before the resident runs are merged into one on disk. */
export const RESIDENT_TOTAL_RECORDS = 1024 * 1024;
/** Resident runs at most: each is searched on every lookup. */
const MAX_RESIDENT_RUNS = 16;
/**
 * Records sorted in memory at once while building a run: 2 Mi records are 72 MiB, twice over
 * while sorting. A larger refresh (a cold start) writes several runs, merged from disk.
 */
export const DEFAULT_BUILD_RECORDS = 2 * 1024 * 1024;
/**
 * Index objects read at once. A compacted object is ~18 MiB stored and several times that
 * decoded, so a cold build of a compacted repository holds four of them, not more.
 */
const READS_IN_FLIGHT = 4;
/** Listings retried when objects vanish between a listing and their reads (index-objects.ts). */
const MAX_RELISTS = 5;
/** Age at which an unreferenced run or temp file is removed: nobody builds or opens it any more. */
const STALE_FILE_MS = 60 * 60 * 1000;
const FOLDER_MODE = 0o700;

export interface HostIndexTableOptions {
  /** The store's cache folder (storeCacheDir); the table lives in `index-table/<repository>`. */
  dir: string;
  onWarning?: (message: string) => void;
  /** @defaultValue DEFAULT_BUILD_RECORDS */
  buildRecords?: number;
  /** @defaultValue DEFAULT_MAX_DISK_RUNS */
  maxDiskRuns?: number;
  /** Runs of at most this many records are kept in memory. @defaultValue RESIDENT_RUN_RECORDS */
  residentRunRecords?: number;
  /** The time, for the age of files to sweep. @defaultValue Date.now */
  now?: () => number;
}

export class HostIndexTable implements DedupIndexCache {
  private readonly warn: (message: string) => void;
  private readonly buildRecords: number;
  private readonly maxDiskRuns: number;
  private readonly residentRunRecords: number;
  private readonly now: () => number;
  /** Set once the folder's failure was reported: one warning, not one per archive. */
  private reported = false;

  constructor(private readonly options: HostIndexTableOptions) {
    this.warn = options.onWarning ?? (() => {});
    this.buildRecords = options.buildRecords ?? DEFAULT_BUILD_RECORDS;
    this.maxDiskRuns = Math.max(1, options.maxDiskRuns ?? DEFAULT_MAX_DISK_RUNS);
    this.residentRunRecords = options.residentRunRecords ?? RESIDENT_RUN_RECORDS;
    this.now = options.now ?? Date.now;
  }

  /** The folder of one repository's table. */
  folderOf(repositoryId: string): string {
    return join(this.options.dir, 'index-table', repositoryId);
  }

  /**
   * The refreshed table, or undefined when its folder cannot be used (a file system error: no
   * permission, a full disk), reported once per table object as a warning; errors of the
   * repository's store are thrown as they are.
   */
  async open(view: IndexObjectView, options: DedupIndexOpenOptions = {}): Promise<DedupIndex | undefined> {
    try {
      return await this.openTable(view, options);
    } catch (err) {
      if (err instanceof SnapfleetError || typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
      if (!this.reported)
        this.warn(`host index table ${this.folderOf(view.repositoryId)} cannot be used (${(err as Error).message}); archives load the index into memory`);
      this.reported = true;
      return undefined;
    }
  }

  private async openTable(view: IndexObjectView, options: DedupIndexOpenOptions): Promise<DedupIndex> {
    const dir = this.folderOf(view.repositoryId);
    makeDirsSync(dir, FOLDER_MODE);
    let runs: OpenRun[] = [];
    let objectsRead = 0;
    try {
      let state = readTableState(dir, this.warn);
      for (let round = 0; ; round++) {
        const listed = new Set(await view.list());
        runs = this.openRuns(dir, state);
        // Packs whose owner is gone: the object that listed them was merged or rewritten.
        const orphaned = new Map<string, { run: OpenRun; ordinal: number }>();
        for (const r of runs) {
          const gone = r.state.sources.map((k) => !listed.has(k));
          if (!gone.includes(true)) continue; // the common case: nothing to look at per pack
          for (let i = 0; i < r.owners.length; i++) {
            const o = r.owners[i]!;
            if (o !== DEAD && gone[o]) orphaned.set(r.reader.packId(i), { run: r, ordinal: i });
          }
        }
        const covered = new Set(runs.flatMap((r) => r.state.sources));
        const fresh = [...listed].filter((k) => !covered.has(k));
        const built = await this.build(dir, view, fresh, orphaned);
        objectsRead += built.read;
        // No object lists these any more (or the one that does vanished before it was read, and
        // its successor goes into a new run next round).
        for (const { run, ordinal } of orphaned.values()) {
          run.owners[ordinal] = DEAD;
          run.changed = true;
        }
        runs.push(...built.runs);
        runs = await this.settle(dir, runs, listed);
        state = { version: STATE_VERSION, runs: runs.map((r) => r.state) };
        // Something vanished between the listing and its read: what it held that still exists
        // was stored under another name first, which the next listing shows.
        if (built.vanished === 0) break;
        if (round + 1 >= MAX_RELISTS)
          throw new TransientError(`index objects kept vanishing while the host index table was refreshed (${MAX_RELISTS} listings)`);
        for (const r of runs) r.reader.close();
        runs = [];
      }
      runs = await this.consolidate(dir, runs);
      for (const r of runs) if (r.state.records <= this.residentRunRecords) r.reader.makeResident();
      writeTableState(dir, { version: STATE_VERSION, runs: runs.map((r) => r.state) });
      sweepStaleFiles(dir, new Set([STATE_FILE, ...runs.flatMap((r) => [r.state.file, r.state.owners])]), this.now() - STALE_FILE_MS);
    } catch (err) {
      for (const r of runs) r.reader.close();
      throw err;
    }
    const condemned = options.exclude ?? new Set<string>();
    for (const r of runs) r.reader.exclude(condemned, (ordinal) => r.owners[ordinal] === DEAD);
    return new OpenTable(runs, objectsRead);
  }

  /** Opens the runs and their pack owners; reports and drops damaged ones. */
  private openRuns(dir: string, state: TableState): OpenRun[] {
    const out: OpenRun[] = [];
    for (const run of state.runs) {
      let reader: RunReader | string;
      try {
        reader = RunReader.open(join(dir, run.file));
      } catch (err) {
        reader = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message;
      }
      let why: string | undefined;
      let owners: Uint32Array | string = 'not read';
      if (typeof reader === 'string') why = reader;
      else if (reader.records !== run.records) why = `${reader.records} records, state says ${run.records}`;
      else {
        owners = readPackOwners(join(dir, run.owners), reader.packCount, run.sources.length);
        if (typeof owners === 'string') why = `pack owners ${run.owners}: ${owners}`;
      }
      if (why !== undefined || typeof reader === 'string' || typeof owners === 'string') {
        if (typeof reader !== 'string') reader.close();
        this.warn(`host index table ${dir}: run ${run.file} is unusable (${why}); rebuilding it from the repository's index objects`);
        continue;
      }
      out.push({ state: { ...run, sources: [...run.sources] }, reader, owners });
    }
    return out;
  }

  /**
   * After a round: forgets sources no longer listed (they own nothing now), rewrites a run more
   * than half of whose packs are dead without them (dropped when none lives), and writes the
   * pack owners of every run that changed.
   */
  private async settle(dir: string, runs: OpenRun[], listed: ReadonlySet<string>): Promise<OpenRun[]> {
    const out: OpenRun[] = [];
    for (let r of runs) {
      if (r.state.sources.some((k) => !listed.has(k))) {
        const keep = r.state.sources.map((k) => listed.has(k));
        const index = new Int32Array(keep.length).fill(-1);
        const sources: string[] = [];
        keep.forEach((k, i) => {
          if (k) index[i] = sources.push(r.state.sources[i]!) - 1;
        });
        for (let i = 0; i < r.owners.length; i++) if (r.owners[i] !== DEAD) r.owners[i] = index[r.owners[i]!]!;
        r.state.sources = sources;
        r.changed = true;
      }
      if (!r.changed) {
        out.push(r); // as it was written: at most half dead
        continue;
      }
      let dead = 0;
      for (const o of r.owners) if (o === DEAD) dead++;
      if (dead === r.owners.length) {
        r.reader.close(); // every pack gone: its file is left to the sweep
        continue;
      }
      if (dead * 2 > r.owners.length) r = await this.withoutDead(dir, r);
      if (r.changed) {
        r.state.owners = newOwnersFile();
        writePackOwners(join(dir, r.state.owners), r.owners, FILE_MODE);
        r.changed = false;
      }
      out.push(r);
    }
    return out;
  }

  /** A copy of the run without its dead packs' records (the input is closed). */
  private async withoutDead(dir: string, r: OpenRun): Promise<OpenRun> {
    const file = newRunFile();
    const { records, ordinals } = await filterRun(r.reader, (i) => r.owners[i] !== DEAD, join(dir, file));
    r.reader.close();
    const owners = new Uint32Array(r.owners.length - r.owners.filter((o) => o === DEAD).length);
    ordinals.forEach((to, from) => {
      if (to >= 0) owners[to] = r.owners[from]!;
    });
    const reopened = this.reopen(dir, { file, records, sources: r.state.sources, owners: '' }, owners);
    reopened.changed = true;
    return reopened;
  }

  /**
   * Reads `keys`: a pack in `orphaned` is handed over to the object read (and taken out of the
   * map), every other pack goes into new runs of at most buildRecords records each.
   */
  private async build(
    dir: string,
    view: IndexObjectView,
    keys: readonly string[],
    orphaned: Map<string, { run: OpenRun; ordinal: number }>,
  ): Promise<{ runs: OpenRun[]; read: number; vanished: number }> {
    const runs: OpenRun[] = [];
    let batch = new RunBatch();
    let read = 0;
    let vanished = 0;
    try {
      for (let i = 0; i < keys.length; i += READS_IN_FLIGHT) {
        const slice = keys.slice(i, i + READS_IN_FLIGHT);
        const objects = await Promise.all(slice.map((k) => view.read(k)));
        for (let j = 0; j < slice.length; j++) {
          const packs = objects[j];
          if (!packs) {
            vanished++;
            continue;
          }
          read++;
          const key = slice[j]!;
          const fresh: IndexedPack[] = [];
          for (const pack of packs) {
            const was = orphaned.get(pack.packId);
            if (was === undefined) {
              fresh.push(pack);
              continue;
            }
            orphaned.delete(pack.packId);
            let owner = was.run.state.sources.indexOf(key);
            if (owner < 0) owner = was.run.state.sources.push(key) - 1;
            was.run.owners[was.ordinal] = owner;
            was.run.changed = true;
          }
          if (batch.records > 0 && batch.records + blobsOf(fresh) > this.buildRecords) {
            runs.push(await this.writeRun(dir, batch));
            batch = new RunBatch();
          }
          batch.add(key, fresh);
        }
      }
      if (batch.records > 0) runs.push(await this.writeRun(dir, batch));
    } catch (err) {
      for (const r of runs) r.reader.close();
      throw err;
    }
    // One run per refresh: a cold start's batches are merged at once.
    return { runs: runs.length > 1 ? [await this.merge(dir, runs)] : runs, read, vanished };
  }

  private async writeRun(dir: string, batch: RunBatch): Promise<OpenRun> {
    const file = newRunFile();
    const bits = fanoutBitsFor(batch.records);
    await yieldToEventLoop();
    const sorted = sortRecords(batch.buffer, batch.records, bits);
    await yieldToEventLoop();
    const writer = new RunWriter(join(dir, file), batch.records);
    for (let i = 0; i < batch.records; i++) writer.add(sorted, i * RECORD_BYTES, sorted.readUInt32LE(i * RECORD_BYTES + ID_BYTES));
    writer.finish(batch.packs);
    return this.withOwners(dir, { file, records: batch.records, sources: batch.sources, owners: '' }, Uint32Array.from(batch.owners));
  }

  /**
   * Merges the resident runs into one once they hold too much, then the two smallest runs on
   * disk while there are more than maxDiskRuns (size-tiered: a large run is rewritten only when
   * a run of comparable size joins it).
   */
  private async consolidate(dir: string, runs: OpenRun[]): Promise<OpenRun[]> {
    const small = (r: OpenRun) => r.state.records <= this.residentRunRecords;
    let resident = runs.filter(small);
    let disk = runs.filter((r) => !small(r));
    const residentRecords = resident.reduce((n, r) => n + r.state.records, 0);
    if (resident.length > 1 && (residentRecords > RESIDENT_TOTAL_RECORDS || resident.length > MAX_RESIDENT_RUNS)) {
      const merged = await this.merge(dir, resident);
      resident = small(merged) ? [merged] : [];
      if (!small(merged)) disk.push(merged);
    }
    while (disk.length > this.maxDiskRuns) {
      disk.sort((a, b) => a.state.records - b.state.records);
      disk = [await this.merge(dir, disk.slice(0, 2)), ...disk.slice(2)];
    }
    // Largest first: a blob already stored is most likely found in the first run read.
    return [...resident, ...disk.sort((a, b) => b.state.records - a.state.records)];
  }

  /** One run holding the records of `inputs`, which are closed (their files left to the sweep). */
  private async merge(dir: string, inputs: readonly OpenRun[]): Promise<OpenRun> {
    const file = newRunFile();
    await mergeRuns(
      inputs.map((r) => r.reader),
      join(dir, file),
    );
    for (const r of inputs) r.reader.close();
    const { sources, owners } = mergeOwners(inputs.map((r) => ({ sources: r.state.sources, owners: r.owners })));
    return this.withOwners(dir, { file, records: inputs.reduce((n, r) => n + r.state.records, 0), sources, owners: '' }, owners);
  }

  /** Writes the owners of a run just written, then opens it. */
  private withOwners(dir: string, state: RunState, owners: Uint32Array): OpenRun {
    state.owners = newOwnersFile();
    writePackOwners(join(dir, state.owners), owners, FILE_MODE);
    return this.reopen(dir, state, owners);
  }

  private reopen(dir: string, state: RunState, owners: Uint32Array): OpenRun {
    const reader = RunReader.open(join(dir, state.file));
    if (typeof reader === 'string') throw new Error(`host index table ${dir}: run ${state.file} just written is unreadable: ${reader}`);
    if (reader.packCount !== owners.length)
      throw new Error(`host index table ${dir}: run ${state.file} has ${reader.packCount} packs, ${owners.length} owners`);
    return { state, reader, owners };
  }
}
