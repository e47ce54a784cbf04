/**
 * Fuzz properties of manifest decoding: the nodes a loader returns have passed their id check, so
 * what reaches the tree reader and the walker is whatever the writer stored, sound or not (a bug,
 * or a hostile holder of the keys). Nodes of any length and content must give chunk ids or fail
 * as corrupt data naming the manifest node, never a TypeError, a RangeError or an endless walk.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../errors.js';
import { ID_BYTES } from '../format/ids.js';
import { expectDecodedAsync, fuzzSettings } from '../testing/decoder-fuzz.js';
import { TreeReader } from './tree-reader.js';
import { chunkCount, FANOUT, treeHeight } from '../format/tree-shape.js';
import { walkTree } from './tree-walk.js';

const settings = fuzzSettings(process.env, 0.5);
const corrupt = { errors: [CorruptDataError], names: 'manifest node' };

/** Entry counts around the ones a tree over these volumes has, and a few it never has. */
const SMALL_COUNTS = [0, 1, 2, 3, 52];
const FULL_COUNTS = [FANOUT - 1, FANOUT, FANOUT + 1];

/**
 * Node bytes: `entries` distinct ids (every third a hole, when `holes`), or a ragged length. Full
 * nodes are drawn less often: under a two-level root each costs a thousand loads.
 */
const nodeArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        entries: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SMALL_COUNTS) }, { weight: 1, arbitrary: fc.constantFrom(...FULL_COUNTS) }),
        seed: fc.integer(),
        holes: fc.boolean(),
      })
      .map(({ entries, seed, holes }) => {
        const b = Buffer.alloc(entries * ID_BYTES);
        for (let i = 0; i < entries; i++) if (!holes || i % 3 !== 0) b.writeInt32LE((seed ^ (i * 0x9e3779b1)) | 1, i * ID_BYTES);
        return new Uint8Array(b);
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }) },
);

/**
 * Volumes of one and two tree levels (and the empty one), with a read range inside them. The
 * loader answers each id with one of a few nodes, chosen by the id's bytes: the same id always
 * loads the same node, as from a store, and drawing a node per call would cost more than the walk.
 */
const caseArb = fc
  .record({
    chunks: fc.oneof(fc.integer({ min: 0, max: 3 * FANOUT }), fc.constant(FANOUT)),
    nodes: fc.array(nodeArb, { minLength: 1, maxLength: 6 }),
    root: fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES }),
  })
  .chain((c) =>
    fc.record({ start: fc.nat(c.chunks), length: fc.nat(FANOUT + 10) }).map((r) => ({ ...c, start: r.start, count: Math.min(r.length, c.chunks - r.start) })),
  );

function loaderOf(nodes: Uint8Array[]): (id: Uint8Array) => Promise<Uint8Array> {
  return async (id) => nodes[(id[0]! ^ id[5]! ^ id[31]!) % nodes.length]!;
}

describe('manifest fuzz', () => {
  it('the tree reader gives ids or fails as corrupt data naming the node, whatever the nodes hold', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ chunks, nodes, root, start, count }) => {
        const reader = new TreeReader(root, treeHeight(chunks), chunks, loaderOf(nodes));
        const out = await expectDecodedAsync(() => reader.read(start, count), corrupt);
        if (out.value) expect(out.value.byteLength).toBe(count * ID_BYTES);
      }),
      settings,
    );
  });

  it('a walk visits chunks inside the tree or fails as corrupt data naming the node', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ chunks, nodes, root }) => {
        const height = treeHeight(chunks);
        const load = loaderOf(nodes);
        let loads = 0;
        // Counted, not asserted per leaf: a two-level walk visits up to a million leaves.
        let raggedIds = 0;
        let pastTheEnd = 0;
        const out = await expectDecodedAsync(
          () =>
            walkTree(
              root,
              height,
              async (id) => {
                loads++;
                return load(id);
              },
              {
                leaf: (id, chunk) => {
                  if (id.byteLength !== ID_BYTES) raggedIds++;
                  if (chunk >= FANOUT ** height) pastTheEnd++;
                },
              },
            ),
          corrupt,
        );
        expect({ raggedIds, pastTheEnd }).toEqual({ raggedIds: 0, pastTheEnd: 0 });
        // Bounded by the shape: a node is loaded at most once per slot of its parent.
        if (!out.error) expect(loads).toBeLessThanOrEqual(1 + (height > 1 ? FANOUT : 0));
      }),
      settings,
    );
  });

  it('sizes agree with the format: one level up to 1,024 chunks, two up to 1,048,576', () => {
    expect([0, 1, FANOUT, FANOUT + 1, FANOUT ** 2, FANOUT ** 2 + 1].map(treeHeight)).toEqual([1, 1, 1, 2, 2, 3]);
    expect(chunkCount(4097, 4096)).toBe(2);
  });
});
