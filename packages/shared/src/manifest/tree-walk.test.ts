import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../errors.js';
import { ID_BYTES } from '../format/ids.js';
import { walkTree } from './tree-walk.js';

/** An id whose every byte is `n` (n > 0, so never the hole id). */
const idOf = (n: number) => new Uint8Array(ID_BYTES).fill(n);
const root = idOf(1);
const damaged = idOf(2);
const sound = idOf(3);
const leafId = idOf(4);
/** A two-level tree: the root names a node that does not load, then one whose only entry is a leaf. */
const nodes = new Map([
  [root[0], Buffer.concat([damaged, sound])],
  [sound[0], leafId],
]);
const load = async (id: Uint8Array) => {
  const node = nodes.get(id[0]);
  if (!node) throw new CorruptDataError('node missing');
  return node;
};

describe('walkTree', () => {
  it('settles an async damagedNode before it visits what follows the damaged node', async () => {
    const seen: string[] = [];
    await walkTree(root, 2, load, {
      // repair pushes holes for the damaged span here: the next leaf must land after them.
      damagedNode: async (_id, first, span) => {
        seen.push(`damaged ${first}+${span}`);
        await new Promise((resolve) => setImmediate(resolve));
        seen.push('damaged handled');
      },
      leaf: (_id, chunk) => {
        seen.push(`leaf ${chunk}`);
      },
    });
    expect(seen).toEqual(['damaged 0+1024', 'damaged handled', 'leaf 1024']);
  });

  it('fails on a damaged node without a damagedNode handler', async () => {
    await expect(walkTree(root, 2, load, { leaf: () => {} })).rejects.toThrow(CorruptDataError);
  });
});
