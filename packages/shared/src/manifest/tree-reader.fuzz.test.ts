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
import { chunkCount, FANOUT, treeHeight } from './tree-shape.js';
import { walkTree } from './tree-walk.js';

const settings = fuzzSettings(process.env, 0.5);
const corrupt = { errors: [CorruptDataError], names: 'manifest node' };

/** Entry counts around the ones a tree over these volumes has, and a few it never has. */
const ENTRY_COUNTS = [0, 1, 2, 3, 52, FANOUT - 1, FANOUT, FANOUT + 1];

/** Node bytes: `entries` ids from a small generator, some of them holes, or a ragged length. */
const nodeArb = fc.oneof(
  fc.record({ entries: fc.constantFrom(...ENTRY_COUNTS), seed: fc.integer(), holes: fc.boolean() }).map(({ entries, seed, holes }) => {
    const b = Buffer.alloc(entries * ID_BYTES);
    let x = seed | 1;
    for (let i = 0; i < b.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = holes && (i >> 5) % 3 === 0 ? 0 : x & 0xff;
    }
    return new Uint8Array(b);
  }),
  fc.uint8Array({ maxLength: 100 }),
);

/** Volumes of one and two tree levels (and the empty one), with a read range inside them. */
const caseArb = fc
  .record({ chunks: fc.oneof(fc.integer({ min: 0, max: 3 * FANOUT }), fc.constant(FANOUT)), load: fc.func(nodeArb), root: fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES }) })
  .chain((c) => fc.record({ start: fc.nat(c.chunks), length: fc.nat(FANOUT + 10) }).map((r) => ({ ...c, start: r.start, count: Math.min(r.length, c.chunks - r.start) })));

describe('manifest fuzz', () => {
  it('the tree reader gives ids or fails as corrupt data naming the node, whatever the nodes hold', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ chunks, load, root, start, count }) => {
        const reader = new TreeReader(root, treeHeight(chunks), chunks, async (id) => load(Buffer.from(id).toString('hex')));
        const out = await expectDecodedAsync(() => reader.read(start, count), corrupt);
        if (out.value) expect(out.value.byteLength).toBe(count * ID_BYTES);
      }),
      settings,
    );
  });

  it('a walk visits chunks inside the tree or fails as corrupt data naming the node', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ chunks, load, root }) => {
        const height = treeHeight(chunks);
        let loads = 0;
        const out = await expectDecodedAsync(
          () =>
            walkTree(root, height, async (id) => {
              loads++;
              return load(Buffer.from(id).toString('hex'));
            }, {
              leaf: (id, chunk) => {
                expect(id.byteLength).toBe(ID_BYTES);
                expect(chunk).toBeLessThan(FANOUT ** height);
              },
            }),
          corrupt,
        );
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
