/**
 * The tree writer's hole runs: pushHoles skips whole all-hole nodes instead of writing their
 * zero ids, and must build the very tree (root and every stored node, in order) that pushing
 * those zero ids one by one builds.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOLE_ID, ID_BYTES } from '../format/ids.js';
import { FANOUT } from '../format/tree-shape.js';
import { TreeWriter } from './tree-writer.js';

type Run = { hole: boolean; n: number };

/** Builds a tree from `runs`; holes through pushHoles, or as zero ids through push. */
async function build(chunks: number, runs: Run[], fastHoles: boolean): Promise<{ root: string; stored: string[] }> {
  const stored: string[] = [];
  const writer = new TreeWriter(chunks, async (raw) => {
    const id = createHash('sha256').update(raw).digest();
    stored.push(`${id.toString('hex')}:${raw.byteLength}`);
    return id;
  });
  let at = 0;
  for (const { hole, n } of runs) {
    if (hole && fastHoles) await writer.pushHoles(n);
    else if (hole) await writer.push(Buffer.alloc(n * ID_BYTES), n);
    else {
      const ids = Buffer.alloc(n * ID_BYTES);
      for (let i = 0; i < n; i++) ids.writeUInt32BE(at + i + 1, i * ID_BYTES); // never all zero
      await writer.push(ids, n);
    }
    at += n;
  }
  return { root: Buffer.from(await writer.finish()).toString('hex'), stored };
}

const total = (runs: Run[]) => runs.reduce((s, r) => s + r.n, 0);

describe('TreeWriter.pushHoles', () => {
  it('builds the same two-level trees as zero ids pushed one by one', async () => {
    const run = fc.record({ hole: fc.boolean(), n: fc.integer({ min: 1, max: 3 * FANOUT }) });
    await fc.assert(
      fc.asyncProperty(fc.array(run, { minLength: 1, maxLength: 12 }), async (runs) => {
        const chunks = total(runs);
        expect(await build(chunks, runs, true)).toEqual(await build(chunks, runs, false));
      }),
      { numRuns: 60 },
    );
  });

  it('skips whole hole subtrees of a three-level tree, with data before, between and after them', async () => {
    const cases: Run[][] = [
      [{ hole: true, n: FANOUT * FANOUT + 5 }],
      [
        { hole: false, n: 3 },
        { hole: true, n: 2 * FANOUT * FANOUT },
        { hole: false, n: FANOUT + 1 },
        { hole: true, n: FANOUT * FANOUT - 7 },
      ],
      [
        { hole: true, n: FANOUT - 1 },
        { hole: true, n: FANOUT * FANOUT + 1 },
        { hole: false, n: 1 },
      ],
    ];
    for (const runs of cases) {
      const chunks = total(runs);
      const fast = await build(chunks, runs, true);
      expect(fast).toEqual(await build(chunks, runs, false));
      if (runs.every((r) => r.hole)) expect(fast.root).toBe(Buffer.from(HOLE_ID).toString('hex'));
    }
  });

  it('refuses more holes than the volume has chunks, naming both counts', async () => {
    const writer = new TreeWriter(10, async () => new Uint8Array(ID_BYTES));
    await writer.pushHoles(4);
    await expect(writer.pushHoles(7)).rejects.toThrow('manifest overflow: 11 > 10 chunks');
  });
});
