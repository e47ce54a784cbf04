/**
 * Pages of ListSnapshotBlocks and ListChangedBlocks, as the service hands them out: a page may be
 * empty and still carry a NextToken (the service scans a range per call, not a number of blocks),
 * so the listing ends only when NextToken is absent. Page tokens live 60 minutes; an archive that
 * stalls longer resumes the listing from the block after the last one it saw.
 */
import { ListChangedBlocksCommand, ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { PermanentError } from '@snapfleet/shared';
import { callAws } from './aws-call.js';
import { ebsCallContext, type EbsApi } from './ebs-api.js';
import { isPageTokenRejected } from './ebs-errors.js';

/** The API's maximum page: List* calls have the smallest quota (per account), so use few. */
export const LIST_PAGE_SIZE = 10_000;
/** When the service gives no ExpiryTime, assume the shortest documented life (page tokens'). */
const FALLBACK_TOKEN_LIFE_MS = 60 * 60_000;

export interface BlockListPage {
  /** First block index the page vouches for: the listing's start, or just after the last page. */
  from: number;
  /** Last index vouched for, inclusive (from - 1 for an empty page); Infinity on the last page. */
  to: number;
  /** Ascending; an empty token means "changed, but holds no data in this snapshot". */
  blocks: { index: number; token: string }[];
  /** When the page's block tokens expire, epoch ms. */
  expiresAt: number;
  volumeSizeGiB?: number;
  blockSize?: number;
}

interface RawPage {
  blocks: { index: number; token: string }[];
  nextToken?: string;
  expiry?: Date;
  volumeSizeGiB?: number;
  blockSize?: number;
}

/** Every written block of `snapshotId` from block `start` on (ListSnapshotBlocks). */
export function listSnapshotBlocks(api: EbsApi, snapshotId: string, start: number, now: () => number): AsyncGenerator<BlockListPage> {
  const what = `EBS ListSnapshotBlocks of ${snapshotId} in ${api.region}`;
  return paginate(what, start, now, async (cursor) => {
    const out = await callAws(what, ebsCallContext(api, 'list'), (abortSignal) =>
      api.client.send(
        new ListSnapshotBlocksCommand({
          SnapshotId: snapshotId,
          MaxResults: LIST_PAGE_SIZE,
          ...(cursor.nextToken !== undefined ? { NextToken: cursor.nextToken } : { StartingBlockIndex: cursor.start }),
        }),
        { abortSignal },
      ),
    );
    return {
      blocks: (out.Blocks ?? []).map((b) => ({ index: b.BlockIndex ?? -1, token: b.BlockToken ?? '' })),
      ...pageMeta(out),
    };
  });
}

/** Blocks that differ between `firstId` and `secondId` (ListChangedBlocks), with the second's tokens. */
export function listChangedBlocks(api: EbsApi, firstId: string, secondId: string, now: () => number): AsyncGenerator<BlockListPage> {
  const what = `EBS ListChangedBlocks from ${firstId} to ${secondId} in ${api.region}`;
  return paginate(what, 0, now, async (cursor) => {
    const out = await callAws(what, ebsCallContext(api, 'list'), (abortSignal) =>
      api.client.send(
        new ListChangedBlocksCommand({
          FirstSnapshotId: firstId,
          SecondSnapshotId: secondId,
          MaxResults: LIST_PAGE_SIZE,
          ...(cursor.nextToken !== undefined ? { NextToken: cursor.nextToken } : { StartingBlockIndex: cursor.start }),
        }),
        { abortSignal },
      ),
    );
    return {
      // No SecondBlockToken: the block has data in the first snapshot only, so it reads as zeros.
      blocks: (out.ChangedBlocks ?? []).map((b) => ({ index: b.BlockIndex ?? -1, token: b.SecondBlockToken ?? '' })),
      ...pageMeta(out),
    };
  });
}

function pageMeta(out: { NextToken?: string; ExpiryTime?: Date; VolumeSize?: number; BlockSize?: number }): Omit<RawPage, 'blocks'> {
  return {
    ...(out.NextToken ? { nextToken: out.NextToken } : {}),
    ...(out.ExpiryTime ? { expiry: out.ExpiryTime } : {}),
    ...(out.VolumeSize !== undefined ? { volumeSizeGiB: out.VolumeSize } : {}),
    ...(out.BlockSize !== undefined ? { blockSize: out.BlockSize } : {}),
  };
}

async function* paginate(
  what: string,
  start: number,
  now: () => number,
  fetch: (cursor: { start: number; nextToken?: string }) => Promise<RawPage>,
): AsyncGenerator<BlockListPage> {
  let from = start;
  let nextToken: string | undefined;
  for (;;) {
    let raw: RawPage;
    try {
      raw = await fetch(nextToken !== undefined ? { start: from, nextToken } : { start: from });
    } catch (err) {
      // An expired page token: start over from the first block not yet seen. Only once per
      // page: a fresh listing that fails the same way is a real error.
      if (nextToken === undefined || !isPageTokenRejected(err)) throw err;
      nextToken = undefined;
      raw = await fetch({ start: from });
    }
    let previous = from - 1;
    for (const b of raw.blocks) {
      if (!Number.isSafeInteger(b.index) || b.index <= previous) {
        throw new PermanentError(`${what} returned block ${b.index} after block ${previous}: not ascending`);
      }
      previous = b.index;
    }
    const last = raw.blocks.at(-1)?.index;
    const to = raw.nextToken === undefined ? Infinity : (last ?? from - 1);
    yield {
      from,
      to,
      blocks: raw.blocks,
      expiresAt: raw.expiry ? raw.expiry.getTime() : now() + FALLBACK_TOKEN_LIFE_MS,
      ...(raw.volumeSizeGiB !== undefined ? { volumeSizeGiB: raw.volumeSizeGiB } : {}),
      ...(raw.blockSize !== undefined ? { blockSize: raw.blockSize } : {}),
    };
    if (raw.nextToken === undefined) return;
    if (last !== undefined) from = last + 1;
    nextToken = raw.nextToken;
  }
}
