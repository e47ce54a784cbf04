/**
 * Where damage lands: for each snapshot, the blocks whose blobs do not read back, attributed to
 * the problem that lost them, as block numbers and runs, and the snapshot's total for the
 * summary of what is still fully restorable.
 */
import { fromHex, isHole } from '../format/ids.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { idKeyOf } from '../content/blob-index.js';
import { walkTree, type NodeLoader } from '../manifest/tree-walk.js';
import { chunkCount } from '../format/tree-shape.js';
import type { LostBlobs } from './verify-packs.js';
import { isDataVerdict, type Affected, type Problem, type SnapshotDamage } from './verify-report.js';

/** Blocks and runs listed per problem and snapshot: enough to locate, short enough to read. */
const MAX_LISTED = 20;

/**
 * Fills in `affected` of each problem in `lost` and returns, per snapshot that loses blocks,
 * how many. Snapshots whose manifest does not walk are skipped here: the caller reported them
 * (their loss is unknown).
 */
export async function locate(snapshots: readonly SnapshotEntry[], load: NodeLoader, lost: LostBlobs): Promise<SnapshotDamage[]> {
  const damage: SnapshotDamage[] = [];
  if (lost.size === 0) return damage;
  for (const s of snapshots) {
    const perProblem = new Map<Problem, Affected>();
    const chunks = chunkCount(s.snapshot.sizeBytes, s.snapshot.chunkSize);
    const affectedOf = (p: Problem): Affected => {
      let a = perProblem.get(p);
      if (!a) {
        a = { snapshotId: s.id, volumeId: s.snapshot.volumeId, chunks: [], ranges: [], damagedChunks: 0, chunkSize: s.snapshot.chunkSize };
        perProblem.set(p, a);
      }
      return a;
    };
    let total = 0;
    try {
      await walkTree(fromHex(s.snapshot.tree.root), s.snapshot.tree.height, load, {
        leaf: (id, chunk) => {
          if (isHole(id, 0)) return;
          const hit = lost.get(idKeyOf(id));
          if (!hit) return;
          total++;
          addChunk(affectedOf(hit.problem), chunk);
        },
        // A manifest node that does not load costs every block under it.
        damagedNode: (id, first, span) => {
          const hit = lost.get(idKeyOf(id));
          if (!hit) return;
          const a = affectedOf(hit.problem);
          const end = Math.min(first + span, chunks);
          addRun(a, first, end);
          total += Math.max(0, end - first);
        },
      });
    } catch (err) {
      if (!isDataVerdict(err)) throw err;
      continue;
    }
    for (const [p, a] of perProblem) p.affected.push(a);
    if (total > 0) damage.push({ snapshotId: s.id, volumeId: s.snapshot.volumeId, damagedChunks: total, chunkSize: s.snapshot.chunkSize });
  }
  return damage;
}

/** Counts the chunk and lists it while the lists are short; leaves walk chunks in order. */
function addChunk(a: Affected, chunk: number): void {
  a.damagedChunks = (a.damagedChunks ?? 0) + 1;
  if (a.chunks.length < MAX_LISTED) a.chunks.push(chunk);
  const ranges = a.ranges!;
  const last = ranges.at(-1);
  if (last && last[0] + last[1] === chunk) last[1]++;
  else if (ranges.length < MAX_LISTED) ranges.push([chunk, 1]);
}

/** Adds the chunks `[first, end)` at once (a damaged manifest node covers up to 2^30 of them). */
function addRun(a: Affected, first: number, end: number): void {
  if (end <= first) return;
  a.damagedChunks = (a.damagedChunks ?? 0) + (end - first);
  for (let c = first; c < end && a.chunks.length < MAX_LISTED; c++) a.chunks.push(c);
  const ranges = a.ranges!;
  const last = ranges.at(-1);
  if (last && last[0] + last[1] === first) last[1] += end - first;
  else if (ranges.length < MAX_LISTED) ranges.push([first, end - first]);
}

/** Runs of blocks as text: `0-15, 40, 97-98`. */
export function describeRanges(ranges: readonly [number, number][]): string {
  return ranges.map(([first, count]) => (count === 1 ? `${first}` : `${first}-${first + count - 1}`)).join(', ');
}
