/**
 * Verify: proves that every snapshot can be restored. It checks that each snapshot's manifest
 * loads and names only indexed blobs, then reads packs back (all, or a random fraction), checks
 * each pack's hash, decodes every frame and checks every blob against its id. Problems name the
 * object, the blob and the snapshots and blocks they affect.
 */
import { randomInt } from 'node:crypto';
import type { CodecPool } from '../parallel/codec-pool.js';
import type { ObjectInfo } from '../ports/blob-store.js';
import { isSnapfleetError, NotFoundError, type SnapfleetError } from '../errors.js';
import { DATA_PREFIX, SNAPSHOTS_PREFIX, idFromKey } from '../format/layout.js';
import { fromHex, ID_BYTES, toHex } from '../format/ids.js';
import { decodePackHeader, framesLength, TRAILER_BYTES } from '../format/pack-header.js';
import { decodeEnvelope } from '../format/envelope.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { idKeyOf } from '../content/blob-index.js';
import { collect, mapLimit } from '../content/map-limit.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { oncePerNode, walkTree } from '../manifest/tree-walk.js';
import type { ProgressListener } from './progress.js';
import type { Repository } from './repository.js';
import { listSnapshotKeys, readSnapshotAt } from './snapshot-objects.js';

/** Whole packs read at once: each is ~16 MiB in memory (twice, with its frame copies) while it is checked; its frames already keep every codec thread busy. */
const PACKS_IN_FLIGHT = 2;
/** Blocks listed per affected snapshot in a report: enough to locate, short enough to read. */
const MAX_CHUNKS_LISTED = 20;

export type ProblemKind = 'corrupt-pack' | 'corrupt-blob' | 'missing-blob' | 'corrupt-snapshot' | 'corrupt-manifest';

export interface Affected {
  snapshotId: string;
  volumeId: string;
  /** Block (chunk) numbers; byte offset = chunk * chunkSize. */
  chunks: number[];
  chunkSize: number;
}

export interface Problem {
  kind: ProblemKind;
  object?: string;
  blobId?: string;
  message: string;
  affected: Affected[];
}

export interface VerifyReport {
  snapshots: number;
  packsTotal: number;
  packsRead: number;
  blobsChecked: number;
  bytesRead: number;
  /** Packs in an archive storage class without a retrieved copy: not read back (their blobs are still checked against the index and manifests). */
  packsArchived?: number;
  problems: Problem[];
}

export interface VerifyOptions {
  /** Fraction of packs to read back, (0, 1]; 1 reads every pack. */
  readDataFraction?: number;
  onProgress?: ProgressListener;
}

export async function verifyRepository(repo: Repository, pool: CodecPool, options: VerifyOptions = {}): Promise<VerifyReport> {
  await repo.loadIndex();
  const problems: Problem[] = [];
  const snapshots = await loadSnapshots(repo, problems);
  const load = createNodeLoader(repo, pool);
  const missing = new Map<string, Uint8Array>();
  const firstVisit = oncePerNode();
  for (const s of snapshots) {
    try {
      await walkTree(fromHex(s.snapshot.tree.root), s.snapshot.tree.height, load, {
        node: firstVisit,
        leaf: (id) => {
          if (!repo.index.lookup(id)) missing.set(idKeyOf(id), id);
        },
      });
    } catch (err) {
      if (!isDataVerdict(err)) throw err;
      problems.push({ kind: 'corrupt-manifest', message: `snapshot ${s.id}: ${err.message}`, affected: [{ snapshotId: s.id, volumeId: s.snapshot.volumeId, chunks: [], chunkSize: s.snapshot.chunkSize }] });
    }
  }
  for (const id of missing.values()) problems.push({ kind: 'missing-blob', blobId: toHex(id), message: `blob ${toHex(id)} is referenced but not in any pack`, affected: [] });

  const packs = (await collect(repo.store.list(DATA_PREFIX))).filter((o) => idFromKey(o.key));
  const { packsRead, blobsChecked, bytesRead, corrupt, packsArchived } = await readBack(repo, pool, packs, options, problems);

  const bad = new Map([...missing, ...corrupt]);
  if (bad.size > 0) await locate(snapshots, load, bad, problems);
  return { snapshots: snapshots.length, packsTotal: packs.length, packsRead, blobsChecked, bytesRead, ...(packsArchived ? { packsArchived } : {}), problems };
}

/**
 * Reads back `packs` (all, or the share options.readDataFraction picks at random), checking every
 * blob; adds what is wrong to `problems` and returns the damaged blob ids with the totals.
 */
export async function readBack(repo: Repository, pool: CodecPool, packs: readonly ObjectInfo[], options: VerifyOptions, problems: Problem[]) {
  const fraction = options.readDataFraction ?? 1;
  // That share rounded up: any share above 0 reads at least one pack ("no errors found" after
  // reading nothing would be a check that cannot fail).
  let chosen = fraction >= 1 ? packs : randomSubset(packs, Math.ceil(fraction * packs.length));
  // Archive storage classes: a pack without a retrieved copy cannot be read (a read would fail);
  // it is left out and counted, and the manifests (in the default class) are still checked.
  let packsArchived = 0;
  const retrievalState = repo.archivedPacks ? repo.store.retrievalState?.bind(repo.store) : undefined;
  if (retrievalState) {
    const states = await mapLimit(chosen, PACKS_IN_FLIGHT, (o) => retrievalState(o.key));
    packsArchived = states.filter((st) => st !== 'readable').length;
    chosen = chosen.filter((_, i) => states[i] === 'readable');
  }
  const totalBytes = chosen.reduce((n, p) => n + p.size, 0);
  let bytesRead = 0;
  let blobsChecked = 0;
  const corrupt = new Map<string, Uint8Array>();
  await mapLimit(chosen, PACKS_IN_FLIGHT, async (o) => {
    const result = await checkPack(repo, pool, o.key);
    blobsChecked += result.blobs;
    bytesRead += o.size;
    options.onProgress?.({ bytesDone: bytesRead, bytesTotal: totalBytes });
    for (const p of result.problems) {
      problems.push(p);
      if (p.blobId) corrupt.set(idKeyOf(fromHex(p.blobId)), fromHex(p.blobId));
    }
  });
  return { packsRead: chosen.length, blobsChecked, bytesRead, corrupt, packsArchived };
}

/**
 * Whether a failure to read an object says something about the stored data. A transient or
 * throttled store error (a 5xx, a reset connection, SlowDown, still failing after the store's
 * retries) says only that the store could not be read just now: verify fails with it (exit 1)
 * instead of reporting damage (exit 3) that a second run would not find.
 */
export function isDataVerdict(err: unknown): err is SnapfleetError {
  return isSnapfleetError(err) && !err.retryable;
}

/** Every snapshot, each id once (a repository being migrated may hold one under two keys). */
async function loadSnapshots(repo: Repository, problems: Problem[]): Promise<SnapshotEntry[]> {
  const out: SnapshotEntry[] = [];
  for (const [id, keys] of await listSnapshotKeys(repo.store, SNAPSHOTS_PREFIX)) {
    for (const { key } of keys) {
      try {
        out.push({ id, key, snapshot: await readSnapshotAt(repo, key, id) });
      } catch (err) {
        if (err instanceof NotFoundError) continue; // forgotten, or moved by migrate to a key read next
        if (!isDataVerdict(err)) throw err;
        problems.push({ kind: 'corrupt-snapshot', object: key, message: err.message, affected: [{ snapshotId: id, volumeId: '?', chunks: [], chunkSize: 0 }] });
      }
      break;
    }
  }
  return out;
}

interface PackCheck {
  blobs: number;
  problems: Problem[];
}

async function checkPack(repo: Repository, pool: CodecPool, key: string): Promise<PackCheck> {
  const packId = idFromKey(key)!;
  const bytes = Buffer.from(await repo.store.get(key));
  const problems: Problem[] = [];
  let frames;
  let headerLength: number;
  try {
    headerLength = bytes.readUInt32LE(bytes.length - TRAILER_BYTES);
    const header = bytes.subarray(bytes.length - TRAILER_BYTES - headerLength, bytes.length - TRAILER_BYTES);
    frames = decodePackHeader(decodeEnvelope(header, repo.keys.enc, key), key);
    if (framesLength(frames) + headerLength + TRAILER_BYTES !== bytes.length) throw new Error(`pack ${packId}: frames and header do not add up to its length`);
  } catch (err) {
    problems.push({ kind: 'corrupt-pack', object: key, message: `pack ${packId}: header unreadable: ${(err as Error).message}`, affected: [] });
    return { blobs: 0, problems };
  }
  // Every frame of the pack is decoded at once: the codec pool spreads them over its threads.
  let offset = 0;
  const checks = frames.map((f) => {
    const at = offset;
    offset += f.storedLength;
    const spans: number[] = [];
    let inFrame = 0;
    for (const length of f.lengths) {
      spans.push(inFrame, length);
      inFrame += length;
    }
    // A copy of just this frame: a view would make the thread hand-off copy the whole pack.
    const stored = new Uint8Array(bytes.subarray(at, at + f.storedLength));
    return pool.decodeFrame({ stored, compression: f.compression, rawLength: f.rawLength, spans: Uint32Array.from(spans), ids: new Uint8Array(f.ids), checkOnly: true }).then((result) => {
      const badIdx = result.error ? Array.from(f.lengths, (_, i) => i) : result.badSpans;
      for (const i of badIdx) {
        const blobId = toHex(f.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES));
        const why = result.error ?? 'content does not match its id';
        problems.push({ kind: 'corrupt-blob', object: key, blobId, message: `pack ${packId} frame at offset ${at}: blob ${blobId}: ${why}`, affected: [] });
      }
    });
  });
  await Promise.all(checks);
  return { blobs: frames.reduce((n, f) => n + f.lengths.length, 0), problems };
}

/** Fills in, for each problem blob, the snapshots and blocks that reference it. */
export async function locate(snapshots: SnapshotEntry[], load: (id: Uint8Array) => Promise<Uint8Array>, bad: Map<string, Uint8Array>, problems: Problem[]) {
  const byBlob = new Map<string, Problem[]>();
  for (const p of problems) if (p.blobId) byBlob.set(p.blobId, [...(byBlob.get(p.blobId) ?? []), p]);
  for (const s of snapshots) {
    const hits = new Map<string, number[]>();
    try {
      await walkTree(fromHex(s.snapshot.tree.root), s.snapshot.tree.height, load, {
        leaf: (id, chunk) => {
          if (!bad.has(idKeyOf(id))) return;
          const hex = toHex(id);
          const list = hits.get(hex) ?? [];
          if (list.length < MAX_CHUNKS_LISTED) list.push(chunk);
          hits.set(hex, list);
        },
      });
    } catch (err) {
      if (!isDataVerdict(err)) throw err;
      continue; // already reported as a corrupt manifest
    }
    for (const [hex, chunks] of hits) {
      for (const p of byBlob.get(hex) ?? []) p.affected.push({ snapshotId: s.id, volumeId: s.snapshot.volumeId, chunks, chunkSize: s.snapshot.chunkSize });
    }
  }
}

/** `count` of `items`, each subset equally likely (a partial Fisher-Yates shuffle). */
function randomSubset<T>(items: readonly T[], count: number): T[] {
  const pool = [...items];
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + randomInt(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}
