/**
 * The on-disk state of the fake AWS world that end-to-end tests share between processes: the
 * test writes volumes into a directory, and every `snapfleet` process it starts (with preload.mjs)
 * serves its EC2 and EBS calls from the same directory. Plain JavaScript, because it runs inside
 * the built CLI processes as well as in the test.
 *
 *   world.json                 settings every process reads (pending polls, page shapes)
 *   volumes/<vol-id>.json      { id, region, az, sizeGiB, tags: [{ Key, Value }] }
 *   volumes/<vol-id>.img       the volume's bytes; the test rewrites it between ticks
 *   snapshots/<snap-id>.json   the record; it is written last, so a snapshot exists iff it exists
 *   snapshots/<snap-id>.img    a frozen copy of the volume (CreateSnapshot) or the restore's writes
 *   snapshots/<snap-id>.polls  one byte per DescribeSnapshots answer that showed the snapshot
 *   puts/<snap-id>.log         "<block index> <sha256 hex>" per PutSnapshotBlock body
 *   calls/<pid>.log            one JSON line per API call: { pid, api, t (epoch ms), region, ... }
 *
 * Every process appends to its own call log and updates records by writing a temp file and
 * renaming it into place, so readers never see half a file and no locks are needed.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

/** The EBS direct APIs read and write 512 KiB blocks, fixed by the service. */
export const BLOCK_SIZE = 512 * 1024;
export const GiB = 1024 ** 3;

/**
 * pendingPolls: DescribeSnapshots answers that show a new snapshot as pending before it reads as
 * completed. pendingMs: milliseconds a new snapshot stays pending after it is taken (or completed),
 * however often it is polled, as a real snapshot does while EBS copies it (both rules apply). pageBlocks / scanBlocks: a block listing returns at most pageBlocks blocks and scans
 * at most scanBlocks block indexes per call, so a run of holes gives an empty page that still has
 * a NextToken, as the service does. describePage: EC2 describe calls look at this many records
 * per page before filtering (EC2 filters after paging, so pages may be empty too).
 */
export const DEFAULT_SETTINGS = Object.freeze({ pendingPolls: 0, pendingMs: 0, pageBlocks: 4, scanBlocks: 8, describePage: 2 });

/** An AWS error the world raises; preload.mjs turns it into the SDK's own exception class. */
export class WorldError extends Error {
  constructor(service, code, message, reason) {
    super(message);
    this.service = service;
    this.code = code;
    this.reason = reason;
  }
}

const ZEROS = Buffer.alloc(BLOCK_SIZE);

export function isZeroBlock(buf) {
  return buf.equals(ZEROS.subarray(0, buf.byteLength));
}

/** Block `index` of an image, zero-filled past its end (volumes are larger than their files). */
export function readImageBlock(path, index) {
  const buf = Buffer.alloc(BLOCK_SIZE);
  const fd = fs.openSync(path, 'r');
  try {
    fs.readSync(fd, buf, 0, BLOCK_SIZE, index * BLOCK_SIZE);
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

/** Blocks the image file spans; every block after them reads as zeros. */
export function imageBlockCount(path) {
  return Math.ceil(fs.statSync(path).size / BLOCK_SIZE);
}

function deepFreeze(value) {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export class World {
  /** `overrides` replace fields of world.json in this process only (test/sim's account server). */
  constructor(dir, overrides = {}) {
    this.dir = dir;
    this.overrides = overrides;
    this.cachedSettings = undefined;
    /** Parsed records by path, with the file's identity when read (records()). */
    this.cache = new Map();
  }

  static create(dir, settings = {}) {
    for (const sub of ['volumes', 'snapshots', 'puts', 'calls']) fs.mkdirSync(join(dir, sub), { recursive: true });
    const world = new World(dir);
    world.writeJson(join(dir, 'world.json'), { ...DEFAULT_SETTINGS, ...settings });
    return world;
  }

  get settings() {
    this.cachedSettings ??= { ...DEFAULT_SETTINGS, ...this.readJson(join(this.dir, 'world.json')), ...this.overrides };
    return this.cachedSettings;
  }

  volumeImage(id) {
    return join(this.dir, 'volumes', `${id}.img`);
  }

  snapshotImage(id) {
    return join(this.dir, 'snapshots', `${id}.img`);
  }

  putLogPath(id) {
    return join(this.dir, 'puts', `${id}.log`);
  }

  /** Adds a volume record; the caller writes its image to volumeImage(id). */
  addVolume(volume) {
    const record = { az: `${volume.region}a`, sizeGiB: 1, tags: [], ...volume };
    this.writeJson(join(this.dir, 'volumes', `${record.id}.json`), record);
    return record;
  }

  volumes() {
    return this.records('volumes');
  }

  /** Removes the record first, then the image: from then on the volume does not exist for anyone. */
  deleteVolume(id) {
    fs.rmSync(join(this.dir, 'volumes', `${id}.json`), { force: true });
    fs.rmSync(this.volumeImage(id), { force: true });
  }

  volume(id) {
    return this.readJson(join(this.dir, 'volumes', `${id}.json`));
  }

  snapshots() {
    return this.records('snapshots');
  }

  snapshot(id) {
    return /^snap-[0-9a-f]+$/.test(id) ? this.readJson(join(this.dir, 'snapshots', `${id}.json`)) : undefined;
  }

  saveSnapshot(record) {
    this.writeJson(join(this.dir, 'snapshots', `${record.id}.json`), record);
  }

  /** Removes the record first: from then on the snapshot does not exist for anyone. */
  deleteSnapshot(id) {
    fs.rmSync(join(this.dir, 'snapshots', `${id}.json`), { force: true });
    for (const f of [this.snapshotImage(id), join(this.dir, 'snapshots', `${id}.polls`)]) fs.rmSync(f, { force: true });
  }

  /** Counts one DescribeSnapshots answer showing the snapshot (appends are atomic across processes). */
  countPoll(id) {
    fs.appendFileSync(join(this.dir, 'snapshots', `${id}.polls`), '.');
  }

  polls(id) {
    try {
      return fs.statSync(join(this.dir, 'snapshots', `${id}.polls`)).size;
    } catch (err) {
      if (err.code === 'ENOENT') return 0;
      throw err;
    }
  }

  /**
   * The state callers see: a finished snapshot reads as pending for its first pendingPolls polls
   * and until its readyAt time.
   */
  stateOf(record) {
    if (record.state === 'completed' && this.polls(record.id) < (record.pendingPolls ?? 0)) return 'pending';
    if (record.state === 'completed' && record.readyAt !== undefined && Date.now() < record.readyAt) return 'pending';
    return record.state;
  }

  /** The pending rules of a snapshot finished now, to spread into its record. */
  pendingFields() {
    const { pendingPolls, pendingMs } = this.settings;
    return { pendingPolls, ...(pendingMs > 0 ? { readyAt: Date.now() + pendingMs } : {}) };
  }

  /** `snap-` or `vol-` and 17 random hex digits, as EC2's ids: unique across processes. */
  newId(prefix) {
    return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
  }

  /** Copies `from` to `to` through a temp file, so `to` appears whole or not at all. */
  copyFileAtomic(from, to) {
    const tmp = `${to}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    fs.copyFileSync(from, tmp);
    fs.renameSync(tmp, to);
  }

  logCall(api, region, detail = {}) {
    // performance.timeOrigin + now(): wall-clock ms with sub-ms precision, comparable across processes.
    const t = performance.timeOrigin + performance.now();
    fs.appendFileSync(join(this.dir, 'calls', `${process.pid}.log`), JSON.stringify({ pid: process.pid, api, t, region, ...detail }) + '\n');
  }

  /** Every process's calls, in time order. */
  calls() {
    const out = [];
    for (const name of fs.readdirSync(join(this.dir, 'calls'))) {
      const text = fs.readFileSync(join(this.dir, 'calls', name), 'utf8');
      for (const line of text.split('\n')) if (line) out.push(JSON.parse(line));
    }
    return out.sort((a, b) => a.t - b.t);
  }

  appendPut(id, index, sha256Hex) {
    fs.appendFileSync(this.putLogPath(id), `${index} ${sha256Hex}\n`);
  }

  /** The PutSnapshotBlock bodies a restore sent, in the order they arrived. */
  puts(id) {
    let text;
    try {
      text = fs.readFileSync(this.putLogPath(id), 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT') return [];
      throw err;
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [index, sha256] = line.split(' ');
        return { index: Number(index), sha256 };
      });
  }

  writeJson(path, value) {
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(tmp, JSON.stringify(value, null, 2));
    fs.renameSync(tmp, path);
  }

  readJson(path) {
    try {
      return JSON.parse(fs.readFileSync(path, 'utf8'));
    } catch (err) {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Every record of `sub`, sorted by id. A scan reads each file only when it changed since the
   * last scan (a write renames a new file in, so the inode says so): reading and parsing every
   * record on every describe call made the simulated account's CPU grow with the world, and a
   * night of 2,000 volumes spent more CPU in it than in the fleet. Records are frozen, since a
   * cached one is handed out again: changes go through saveSnapshot and the like.
   */
  records(sub) {
    const out = [];
    for (const name of fs.readdirSync(join(this.dir, sub)).sort()) {
      if (!name.endsWith('.json')) continue; // images, poll counters, temp files
      const r = this.cachedJson(join(this.dir, sub, name));
      if (r) out.push(r); // deleted between readdir and read
    }
    return out;
  }

  cachedJson(path) {
    const st = fs.statSync(path, { throwIfNoEntry: false });
    if (!st) {
      this.cache.delete(path);
      return undefined;
    }
    const hit = this.cache.get(path);
    if (hit && hit.ino === st.ino && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.record;
    const record = this.readJson(path);
    if (record) this.cache.set(path, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, record: deepFreeze(record) });
    return record;
  }
}
