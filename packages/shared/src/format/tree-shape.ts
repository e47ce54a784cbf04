/**
 * A snapshot's manifest is a tree of map blobs: leaves list chunk ids in volume order, inner
 * nodes list child map ids. It is written and read as a stream, so memory stays at one node per
 * level however large the volume (a 16 TiB volume of 4 KiB chunks is a 4-level tree). The shape
 * is part of the format (docs/format.md, "Manifest (map blobs)"): a snapshot object's recorded
 * height is checked against it.
 */

/**
 * 1,024 ids (32 KiB) per node: a leaf covers 4 MiB of a 4 KiB-chunk volume, so a small rewrite
 * costs one 32 KiB node per level, and unchanged regions dedup to the very same node.
 */
export const FANOUT = 1024;

export function chunkCount(sizeBytes: number, chunkSize: number): number {
  return Math.ceil(sizeBytes / chunkSize);
}

/** Levels needed so that one root node covers `chunks` leaf entries (at least one level). */
export function treeHeight(chunks: number): number {
  let height = 1;
  for (let cover = FANOUT; cover < chunks; cover *= FANOUT) height++;
  return height;
}

/** Entries in node `node` of `level` (0 = leaves) for a tree over `chunks` chunks. */
export function nodeEntries(chunks: number, level: number, node: number): number {
  const span = FANOUT ** level;
  const entriesAtLevel = Math.ceil(chunks / span);
  return Math.max(0, Math.min(FANOUT, entriesAtLevel - node * FANOUT));
}
