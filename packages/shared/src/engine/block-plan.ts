/**
 * Which blocks an archive reads: every written block (full), or only the changed ones when the
 * source can list changes since the parent's point in time (EBS ListChangedBlocks). Each block
 * of the volume comes out once, in order, marked read, hole or same-as-parent.
 */
export type BlockAction = 'read' | 'hole' | 'parent';

export interface PlannedBlock {
  index: number;
  action: BlockAction;
}

/** Walks blocks 0..blocks-1; those in `listed` get `listedAction`, the others `otherAction`. */
export async function* planBlocks(
  blocks: number,
  listed: AsyncIterable<number>,
  listedAction: BlockAction,
  otherAction: BlockAction,
): AsyncGenerator<PlannedBlock> {
  let next = 0;
  for await (const b of listed) {
    if (!Number.isInteger(b) || b < next || b >= blocks)
      throw new RangeError(`source listed block ${b} out of order or range (next ${next}, blocks ${blocks})`);
    for (; next < b; next++) yield { index: next, action: otherAction };
    yield { index: next++, action: listedAction };
  }
  for (; next < blocks; next++) yield { index: next, action: otherAction };
}
