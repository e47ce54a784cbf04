/**
 * `repair snapshots`: rewrites each snapshot whose blocks are lost (a blob no pack holds any
 * more, a manifest node that does not read) as a new snapshot of the same volume and time whose
 * manifest records those blocks as holes and whose `damaged` field lists them, tagged
 * `repaired`, naming the original in `repairedFrom`. A restore of it writes everything that
 * survived and zeros in the listed runs, and says so. The originals stay until `forget` (or
 * `--forget` here), so nothing is decided for the operator.
 *
 * It runs after `repair packs` (it refuses while damaged packs are recorded and not salvaged:
 * their readable blobs would be declared lost). It adds objects only (packs of manifest nodes,
 * a pack list, the snapshot), under an archive's lease so that prune keeps what it stores; a
 * run killed anywhere leaves the original as it was, and a second run skips originals that
 * already have their repaired copy.
 */
import type { CodecPool } from '../parallel/codec-pool.js';
import { PermanentError } from '../errors.js';
import { fromHex, HOLE_ID, toHex } from '../format/ids.js';
import type { Snapshot, SnapshotEntry } from '../format/snapshot.js';
import { encodeEnvelope } from '../format/envelope.js';
import { encodePackList, newPackListKey, PACK_LISTS_PREFIX } from '../format/pack-list.js';
import type { VolumeSource } from '../ports/volume-source.js';
import { BlobType } from '../format/codec-ids.js';
import { blobId } from '../format/ids.js';
import { IdTable } from '../content/id-table.js';
import { PackRepacker } from './pack-repacker.js';
import { BlobWriter } from '../content/blob-writer.js';
import { DEFAULT_ZSTD_LEVEL } from '../format/zstd.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { chunkCount } from '../format/tree-shape.js';
import { walkTree, type NodeLoader } from '../manifest/tree-walk.js';
import { TreeWriter } from '../manifest/tree-writer.js';
import { loadDamage } from './damage-records.js';
import { removeSnapshots } from './forget.js';
import { acquireLease } from './leases.js';
import type { RepairOptions } from './repair-index.js';
import type { Repository } from './repository.js';
import { readPackList } from './snapshot-index.js';

/** The tag a repaired snapshot carries (as restic's `repair snapshots` adds). */
export const REPAIRED_TAG = 'repaired';
/** Holes handed to the tree writer at once: a damaged node may cover 2^30 chunks. */
const HOLES_PER_PUSH = 64 * 1024;

export interface RepairedSnapshot {
  originalId: string;
  /** Lost blocks found again on the volume (`blocksFrom`) and stored afresh. */
  recoveredChunks: number;
  volumeId: string;
  /** The repaired copy; undefined in a dry run. */
  id?: string;
  damagedChunks: number;
  /** Runs of lost blocks `[first, count]`. */
  damaged: [number, number][];
  /** Whether the original was forgotten (`forget`); false when kept, or retained by Object Lock. */
  forgotten: boolean;
}

export interface SnapshotRepairReport {
  checked: number;
  /** Blocks found again on the volumes (`blocksFrom`): their snapshots needed no rewrite for them. */
  recoveredChunks: number;
  repaired: RepairedSnapshot[];
  /** Originals skipped because their repaired copy exists already (a run before this one). */
  alreadyRepaired: string[];
  /** Snapshot objects that do not read: nothing says what they held; `forget` them. */
  unreadable: string[];
}

export interface SnapshotRepairOptions extends RepairOptions {
  /** Only these snapshots (full ids); default: every one. */
  snapshotIds?: readonly string[];
  /** Forget each original once its repaired copy is stored. */
  forget?: boolean;
  /** Report what would be repaired; store nothing. */
  dryRun?: boolean;
  /**
   * Where a snapshot's lost blocks may still be read: the provider snapshot it was archived from
   * (its `sourceRef`, while it exists), or the volume as it is now. Every block read there is
   * checked against the id the manifest names and stored only if it matches, so a volume that
   * has changed since gives back exactly the blocks that have not. Undefined: nowhere.
   */
  blocksFrom?: (entry: SnapshotEntry) => Promise<VolumeSource | undefined>;
}

export async function repairSnapshots(repo: Repository, pool: CodecPool, options: SnapshotRepairOptions): Promise<SnapshotRepairReport> {
  const pending = [...(await loadDamage(repo)).packs.values()].filter((p) => !p.removed);
  if (pending.length > 0) {
    throw new PermanentError(
      `${pending.length} damaged pack(s) are recorded and not salvaged yet (first: ${pending[0]!.packId}); run \`snapfleet repair packs\` first, or the blobs that still read in them would be declared lost`,
    );
  }
  const lease = options.dryRun ? undefined : await acquireLease(repo, options.clock, 'archive', options.hostname, options.identity?.self);
  try {
    // Snapshots before the index: an archive stores its packs and index objects before its
    // snapshot, so the index read next holds every blob a listed snapshot names that still
    // exists. The other order would take a snapshot an archive saved in between for one whose
    // new blobs are lost, and rewrite (with --forget: replace) an intact snapshot.
    const unreadable: string[] = [];
    const all = await repo.listSnapshots({ onDamaged: (id) => unreadable.push(id) });
    const index = await repo.loadIndex();
    const done = new Set(all.map((e) => e.snapshot.repairedFrom).filter((id): id is string => id !== undefined));
    const wanted = options.snapshotIds ? new Set(options.snapshotIds) : undefined;
    const report: SnapshotRepairReport = { checked: 0, recoveredChunks: 0, repaired: [], alreadyRepaired: [], unreadable };
    const load = createNodeLoader(repo, pool, 'corrupt', index);
    // Blobs found again on a volume: stored once the loop is done, available to every later snapshot now.
    const found = new IdTable();
    let recovery = options.blocksFrom && !options.dryRun ? new PackRepacker(repo, pool) : undefined;
    let pendingRecovered = 0;
    const available = (id: Uint8Array) => index.has(id) || found.find(id, 0) >= 0;
    for (const entry of all) {
      if (wanted && !wanted.has(entry.id)) continue;
      if (done.has(entry.id)) {
        report.alreadyRepaired.push(entry.id);
        continue;
      }
      report.checked++;
      let damaged = await lostRuns(entry.snapshot, available, load);
      if (damaged.length === 0) continue;
      let recoveredChunks = 0;
      if (recovery) {
        recoveredChunks = await recoverFromVolume(repo, entry, load, options.blocksFrom!, recovery, found);
        report.recoveredChunks += recoveredChunks;
        pendingRecovered += recoveredChunks;
        if (recoveredChunks > 0) damaged = await lostRuns(entry.snapshot, available, load);
        if (damaged.length === 0) continue; // every lost block was found again: the snapshot is whole as it is
      }
      const repaired: RepairedSnapshot = {
        originalId: entry.id,
        volumeId: entry.snapshot.volumeId,
        recoveredChunks,
        damagedChunks: damaged.reduce((n, r) => n + r[1], 0),
        damaged,
        forgotten: false,
      };
      report.repaired.push(repaired);
      if (options.dryRun) continue;
      lease!.assertHeld();
      // The blobs found again must be stored and indexed before a snapshot that names them.
      if (recovery && pendingRecovered > 0) {
        await recovery.close();
        recovery = new PackRepacker(repo, pool);
        pendingRecovered = 0;
      }
      repaired.id = await storeRepaired(repo, pool, entry, available, load, damaged);
      if (options.forget) repaired.forgotten = (await removeSnapshots(repo, [entry])).removed.length === 1;
    }
    await recovery?.close();
    return report;
  } finally {
    repo.forgetIndex();
    await lease?.release();
  }
}

/** The runs of the snapshot's blocks that cannot be read: blobs in no pack, nodes that do not load. */
async function lostRuns(snapshot: Snapshot, available: (id: Uint8Array) => boolean, load: NodeLoader): Promise<[number, number][]> {
  const runs: [number, number][] = [];
  const chunks = chunkCount(snapshot.sizeBytes, snapshot.chunkSize);
  const add = (first: number, count: number) => {
    const last = runs.at(-1);
    if (last && last[0] + last[1] === first) last[1] += count;
    else runs.push([first, count]);
  };
  await walkTree(fromHex(snapshot.tree.root), snapshot.tree.height, load, {
    leaf: (id, chunk) => {
      if (!available(id)) add(chunk, 1);
    },
    damagedNode: (_id, first, span) => add(first, Math.min(span, chunks - first)),
  });
  return runs;
}

/** Stores the snapshot with its lost blocks as holes; returns the new id. */
async function storeRepaired(
  repo: Repository,
  pool: CodecPool,
  entry: SnapshotEntry,
  available: (id: Uint8Array) => boolean,
  load: NodeLoader,
  damaged: [number, number][],
): Promise<string> {
  const { snapshot } = entry;
  const chunks = chunkCount(snapshot.sizeBytes, snapshot.chunkSize);
  const index = repo.index;
  const writer = new BlobWriter(repo.store, repo.keys, { find: (ids, offset) => index.find(ids, offset) }, pool, {
    zstdLevel: DEFAULT_ZSTD_LEVEL,
    blockSize: snapshot.chunkSize,
    blocksInFlight: 1,
    packPut: repo.packPut,
    ...(repo.mapPut ? { mapPut: repo.mapPut } : {}),
  });
  const tree = new TreeWriter(chunks, (raw) => writer.addMap(raw));
  let next = 0;
  const holesUpTo = async (end: number) => {
    while (next < end) {
      const n = Math.min(HOLES_PER_PUSH, end - next);
      await tree.pushHoles(n);
      next += n;
    }
  };
  await walkTree(fromHex(snapshot.tree.root), snapshot.tree.height, load, {
    leaf: async (id, chunk) => {
      await holesUpTo(chunk);
      await tree.push(available(id) ? id : HOLE_ID, 1);
      next = chunk + 1;
    },
    damagedNode: async (_id, first, span) => {
      await holesUpTo(Math.min(first + span, chunks));
    },
  });
  await holesUpTo(chunks);
  const root = await tree.finish();
  // The original's list still names where its surviving blobs are; the new nodes' packs go first.
  const original = snapshot.packList ? await readPackList(repo, snapshot.packList) : undefined;
  if (original) writer.inherit(original);
  await writer.close();
  const packListKey = newPackListKey();
  await repo.store.put(packListKey, encodeEnvelope(encodePackList(writer.packList()), repo.keys.enc));
  const repaired: Snapshot = {
    ...snapshot,
    tags: [...new Set([...snapshot.tags, REPAIRED_TAG])].sort(),
    tree: { root: toHex(root), height: tree.height },
    packList: packListKey.slice(PACK_LISTS_PREFIX.length),
    damaged: mergeRuns([...(snapshot.damaged ?? []), ...damaged]),
    repairedFrom: entry.id,
  };
  return repo.saveSnapshot(repaired);
}

/**
 * Reads the snapshot's lost leaf blocks from its volume (`blocksFrom`) and keeps each whose
 * bytes hash to the id the manifest names. Blocks under a manifest node that does not load have
 * no id to check against and stay lost. Returns how many were found.
 */
async function recoverFromVolume(
  repo: Repository,
  entry: SnapshotEntry,
  load: NodeLoader,
  blocksFrom: NonNullable<SnapshotRepairOptions['blocksFrom']>,
  recovery: PackRepacker,
  found: IdTable,
): Promise<number> {
  const { snapshot } = entry;
  const index = repo.index;
  const lost: { chunk: number; id: Uint8Array }[] = [];
  await walkTree(fromHex(snapshot.tree.root), snapshot.tree.height, load, {
    leaf: (id, chunk) => {
      if (!index.has(id) && found.find(id, 0) < 0) lost.push({ chunk, id: Buffer.from(id) });
    },
    damagedNode: () => {},
  });
  if (lost.length === 0) return 0;
  const source = await blocksFrom(entry);
  if (!source) return 0;
  let recovered = 0;
  try {
    const chunkSize = snapshot.chunkSize;
    let cached: { block: number; data: Uint8Array } | undefined;
    for (const { chunk, id } of lost) {
      const at = chunk * chunkSize;
      if (at >= source.sizeBytes) continue;
      const block = Math.floor(at / source.blockSize);
      if (cached?.block !== block) cached = { block, data: await source.readBlock(block) };
      const offset = at - block * source.blockSize;
      const bytes = cached.data.subarray(offset, Math.min(offset + chunkSize, cached.data.byteLength));
      if (!blobId(repo.keys.id, bytes).equals(id)) continue; // changed since: stays lost
      await recovery.addBlob(BlobType.Data, id, new Uint8Array(bytes));
      found.add(id, 0);
      recovered++;
    }
  } finally {
    await source.close();
  }
  return recovered;
}

/** Sorted, merged runs. */
function mergeRuns(runs: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [first, count] of [...runs].sort((a, b) => a[0] - b[0])) {
    const last = out.at(-1);
    if (last && first <= last[0] + last[1]) last[1] = Math.max(last[1], first + count - last[0]);
    else out.push([first, count]);
  }
  return out;
}
