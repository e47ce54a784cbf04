/**
 * Depth-first walks over manifest trees, for verify and (later) garbage collection: visit every
 * node once across many snapshots (content-addressed nodes shared by snapshots are skipped), or
 * find where given blob ids sit in one snapshot.
 */
import { CorruptDataError } from '../errors.js';
import { ID_BYTES, isHole, toHex } from '../format/ids.js';
import { idKeyOf } from '../content/blob-index.js';
import { FANOUT } from '../format/tree-shape.js';

export type NodeLoader = (id: Uint8Array) => Promise<Uint8Array>;

export interface WalkVisitor {
  /** Called for every leaf entry that is not a hole; `chunk` is its position in the volume. */
  leaf(id: Uint8Array, chunk: number): void | Promise<void>;
  /** Called once per node before it is loaded; return false to skip its subtree. */
  node?(id: Uint8Array): boolean;
  /**
   * Given, a node that does not load as corrupt data (damaged, or missing from the index) is
   * handed to it with the chunks its subtree covers, `[firstChunk, firstChunk + span)` (the
   * span may run past the volume's end), and the walk goes on once it has settled; else the walk
   * fails.
   */
  damagedNode?(id: Uint8Array, firstChunk: number, span: number, err: CorruptDataError): void | Promise<void>;
}

export async function walkTree(root: Uint8Array, height: number, load: NodeLoader, visit: WalkVisitor): Promise<void> {
  const walk = async (id: Uint8Array, level: number, firstChunk: number): Promise<void> => {
    if (isHole(id, 0)) return;
    if (visit.node && !visit.node(id)) return;
    let node: Uint8Array;
    try {
      node = await load(id);
      // The loader checked the node against its id, not its shape: a node stored wrong (a bug, or a
      // hostile writer with the keys) would hand out ragged ids and chunks past the volume's end.
      if (node.byteLength === 0 || node.byteLength % ID_BYTES !== 0 || node.byteLength > FANOUT * ID_BYTES) {
        throw new CorruptDataError(`manifest node ${toHex(id)} at level ${level} has ${node.byteLength} bytes, not 1 to ${FANOUT} ids`, { blobId: toHex(id) });
      }
    } catch (err) {
      if (!visit.damagedNode || !(err instanceof CorruptDataError)) throw err;
      await visit.damagedNode(id, firstChunk, FANOUT ** (level + 1), err);
      return;
    }
    const span = FANOUT ** level;
    for (let i = 0; i * ID_BYTES < node.byteLength; i++) {
      const child = node.subarray(i * ID_BYTES, (i + 1) * ID_BYTES);
      if (level === 0) {
        if (!isHole(child, 0)) await visit.leaf(child, firstChunk + i);
      } else {
        await walk(child, level - 1, firstChunk + i * span);
      }
    }
  };
  await walk(root, height - 1, 0);
}

/** A visitor filter that passes each node only the first time it is seen. */
export function oncePerNode(): (id: Uint8Array) => boolean {
  const seen = new Set<string>();
  return (id) => {
    const key = idKeyOf(id);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}
