/**
 * Verify's read-back: whole packs read, every frame decoded and every blob checked against its
 * id. A pack whose own header does not read (a flipped byte in its tail, or cut short) is
 * checked against the index's description of it instead, so the frames that survive are told
 * apart from those that are lost.
 */
import { randomInt } from 'node:crypto';
import type { CodecPool } from '../parallel/codec-pool.js';
import type { ObjectInfo } from '../ports/blob-store.js';
import { NotFoundError } from '../errors.js';
import { idFromKey } from '../format/layout.js';
import { ID_BYTES, toHex } from '../format/ids.js';
import { decodePackHeader, framesLength, TRAILER_BYTES, type FrameEntry } from '../format/pack-header.js';
import { decodeEnvelope } from '../format/envelope.js';
import type { IndexedPack } from '../format/index-object.js';
import { idKeyOf } from '../content/blob-index.js';
import { mapLimit } from '../content/map-limit.js';
import type { Repository } from './repository.js';
import { problem, type Problem, type VerifyOptions } from './verify-report.js';

/** Whole packs read at once: each is ~16 MiB in memory (twice, with its frame copies) while it is checked; its frames already keep every codec thread busy. */
const PACKS_IN_FLIGHT = 2;

/** The index's description of a pack whose own header does not read, and the problem already reported for it, if any. */
export interface DescribedPack {
  pack: IndexedPack;
  problem?: Problem;
}

/** Blobs that do not read back, each with the problem that says why. */
export type LostBlobs = Map<string, { id: Uint8Array; problem: Problem }>;

export interface ReadBackResult {
  packsRead: number;
  blobsChecked: number;
  bytesRead: number;
  packsArchived: number;
  lost: LostBlobs;
  /** Packs with a blob or frame that does not read back, and why (for damage records). */
  damagedPacks: Map<string, 'corrupt-blob' | 'corrupt-pack' | 'missing-pack'>;
}

/**
 * Reads back `packs` (all, or the share options.readDataFraction picks at random), checking every
 * blob; adds what is wrong to `problems`. `describe` gives the index's description of a pack
 * whose own header does not read (undefined: none).
 */
export async function readBack(
  repo: Repository,
  pool: CodecPool,
  packs: readonly ObjectInfo[],
  options: VerifyOptions,
  problems: Problem[],
  describe: (packId: string) => Promise<DescribedPack | undefined> = async () => undefined,
  /**
   * Whether a pack that is gone when read is reported missing (a snapshot's packs, found through
   * its list) or passed over (a listing of every pack, which prune may have shortened since: the
   * inventory already held the index against it).
   */
  missing: 'report' | 'skip' = 'skip',
): Promise<ReadBackResult> {
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
  const result: ReadBackResult = { packsRead: chosen.length, blobsChecked: 0, bytesRead: 0, packsArchived, lost: new Map(), damagedPacks: new Map() };
  await mapLimit(chosen, PACKS_IN_FLIGHT, async (o) => {
    const packId = idFromKey(o.key)!;
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await repo.store.get(o.key));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      if (missing === 'skip') return;
      const p = problem('missing-pack', `pack ${packId} is named by the index but not in the store`, { object: o.key });
      problems.push(p);
      result.damagedPacks.set(packId, 'missing-pack');
      const described = await describe(packId);
      for (const f of described?.pack.frames ?? []) {
        for (let i = 0; i < f.lengths.length; i++) {
          const id = f.ids.slice(i * ID_BYTES, (i + 1) * ID_BYTES);
          result.lost.set(idKeyOf(id), { id, problem: p });
        }
        p.blobs = (p.blobs ?? 0) + f.lengths.length;
      }
      return;
    }
    result.bytesRead += o.size;
    options.onProgress?.({ bytesDone: result.bytesRead, bytesTotal: totalBytes });
    let frames: FrameEntry[];
    let headerProblem: Problem | undefined;
    try {
      frames = ownHeader(repo, bytes, o.key, packId);
    } catch (err) {
      const described = await describe(packId);
      if (described?.problem) {
        headerProblem = described.problem; // already reported (a pack cut short)
      } else {
        headerProblem = problem(
          'corrupt-pack',
          `pack ${packId}: header unreadable: ${(err as Error).message}${described ? '; its frames checked against the index' : ' and no index object describes it'}`,
          { object: o.key },
        );
        problems.push(headerProblem);
        result.damagedPacks.set(packId, 'corrupt-pack');
      }
      if (!described) return;
      frames = described.pack.frames;
    }
    result.blobsChecked += await checkFrames(pool, bytes, frames, o.key, packId, problems, result, headerProblem);
  });
  return result;
}

function ownHeader(repo: Repository, bytes: Buffer, key: string, packId: string): FrameEntry[] {
  if (bytes.length < TRAILER_BYTES) throw new Error(`${bytes.length} bytes, too short to be a pack`);
  const headerLength = bytes.readUInt32LE(bytes.length - TRAILER_BYTES);
  if (headerLength + TRAILER_BYTES > bytes.length) throw new Error(`header length ${headerLength} exceeds the pack`);
  const header = bytes.subarray(bytes.length - TRAILER_BYTES - headerLength, bytes.length - TRAILER_BYTES);
  const frames = decodePackHeader(decodeEnvelope(header, repo.keys.enc, key), key);
  if (framesLength(frames) + headerLength + TRAILER_BYTES !== bytes.length) throw new Error(`pack ${packId}: frames and header do not add up to its length`);
  return frames;
}

/**
 * Decodes every frame (the codec pool spreads them over its threads) and checks each blob. A
 * frame past the end of `bytes` (a pack cut short) loses its blobs to `cut`.
 */
async function checkFrames(
  pool: CodecPool,
  bytes: Buffer,
  frames: FrameEntry[],
  key: string,
  packId: string,
  problems: Problem[],
  result: ReadBackResult,
  cut: Problem | undefined,
): Promise<number> {
  let offset = 0;
  let blobs = 0;
  const checks = frames.map((f) => {
    const at = offset;
    offset += f.storedLength;
    blobs += f.lengths.length;
    const idAt = (i: number) => f.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES);
    if (at + f.storedLength > bytes.length) {
      // Lost with the pack's end; the inventory counted these already when it saw the pack cut.
      if (cut && cut.kind !== 'truncated-pack') {
        for (let i = 0; i < f.lengths.length; i++) result.lost.set(idKeyOf(idAt(i)), { id: new Uint8Array(idAt(i)), problem: cut });
        cut.blobs = (cut.blobs ?? 0) + f.lengths.length;
      }
      return Promise.resolve();
    }
    const spans: number[] = [];
    let inFrame = 0;
    for (const length of f.lengths) {
      spans.push(inFrame, length);
      inFrame += length;
    }
    // A copy of just this frame: a view would make the thread hand-off copy the whole pack.
    const stored = new Uint8Array(bytes.subarray(at, at + f.storedLength));
    return pool
      .decodeFrame({ stored, compression: f.compression, rawLength: f.rawLength, spans: Uint32Array.from(spans), ids: new Uint8Array(f.ids), checkOnly: true })
      .then((r) => {
        const badIdx = r.error ? Array.from(f.lengths, (_, i) => i) : r.badSpans;
        for (const i of badIdx) {
          const blobId = toHex(idAt(i));
          const p = problem('corrupt-blob', `pack ${packId} frame at offset ${at}: blob ${blobId}: ${r.error ?? 'content does not match its id'}`, {
            object: key,
            blobId,
          });
          problems.push(p);
          result.lost.set(idKeyOf(idAt(i)), { id: new Uint8Array(idAt(i)), problem: p });
          if (!result.damagedPacks.has(packId)) result.damagedPacks.set(packId, 'corrupt-blob');
        }
      });
  });
  await Promise.all(checks);
  return blobs;
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
