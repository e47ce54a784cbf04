/**
 * The block tokens a snapshot's listings handed out, kept compactly and only for a while.
 * GetSnapshotBlock needs the token ListSnapshotBlocks (or ListChangedBlocks) gave for the block.
 * A 16 TiB volume has 32 million blocks, so keeping every token would cost gigabytes: the cache
 * keeps the most recent listing pages (the archive reads blocks shortly after listing them) and
 * the reader lists again from a block whose token it no longer has. Each page stores its tokens
 * as one latin1 buffer with offsets (tokens are base64), not as thousands of small strings.
 */

/** What the cache knows about a block. */
export type TokenLookup = { kind: 'token'; token: string } | { kind: 'unwritten' };

export interface TokenPageInput {
  /** First block index the page vouches for (the listing's start, or just after the last page). */
  from: number;
  /** Last block index it vouches for, inclusive; Infinity when the listing ended with this page. */
  to: number;
  /**
   * True for ListSnapshotBlocks pages: a block in [from, to] that is not listed holds no data.
   * False for ListChangedBlocks pages: only the listed blocks are known.
   */
  complete: boolean;
  /** Ascending block indexes, and their tokens; an empty token means "no data in this snapshot". */
  blocks: readonly { index: number; token: string }[];
  /** When the tokens stop working (the service's ExpiryTime), in epoch ms. */
  expiresAt: number;
}

interface TokenPage {
  from: number;
  to: number;
  complete: boolean;
  indexes: Uint32Array;
  /** Token i is bytes[offsets[i] .. offsets[i + 1]). */
  offsets: Uint32Array;
  bytes: Buffer;
  expiresAt: number;
}

/**
 * ~8 full ListSnapshotBlocks pages (10,000 blocks each, the API's maximum): far more than an
 * archive's read-ahead (tens of blocks), and at ~100 bytes per token about 8 MB per source.
 */
export const DEFAULT_MAX_CACHED_TOKENS = 80_000;

/**
 * Tokens due to expire within this margin are treated as expired: a read that starts just before
 * the ExpiryTime could reach the service just after it.
 */
export const TOKEN_EXPIRY_MARGIN_MS = 5 * 60_000;

export class BlockTokenCache {
  /** Oldest first. */
  private pages: TokenPage[] = [];
  private tokenCount = 0;

  constructor(private readonly maxTokens = DEFAULT_MAX_CACHED_TOKENS) {}

  get size(): number {
    return this.tokenCount;
  }

  add(input: TokenPageInput): void {
    const n = input.blocks.length;
    const indexes = new Uint32Array(n);
    const offsets = new Uint32Array(n + 1);
    let at = 0;
    input.blocks.forEach((b, i) => {
      indexes[i] = b.index;
      offsets[i] = at;
      at += b.token.length;
    });
    offsets[n] = at;
    const bytes = Buffer.from(input.blocks.map((b) => b.token).join(''), 'latin1');
    this.pages.push({ from: input.from, to: input.to, complete: input.complete, indexes, offsets, bytes, expiresAt: input.expiresAt });
    this.tokenCount += n;
    // Evict the oldest pages, never the one just added (its reader is waiting for it).
    while (this.tokenCount > this.maxTokens && this.pages.length > 1) this.tokenCount -= this.pages.shift()!.indexes.length;
  }

  /**
   * The token of block `index` valid at `now`, "unwritten" when a listing showed the block holds
   * no data, or undefined when the cache cannot tell (never listed, evicted, or expired).
   */
  lookup(index: number, now: number): TokenLookup | undefined {
    for (let p = this.pages.length - 1; p >= 0; p--) {
      const page = this.pages[p]!;
      if (index < page.from || index > page.to) continue;
      const i = findIndex(page.indexes, index);
      if (i < 0) {
        if (page.complete) return { kind: 'unwritten' };
        continue;
      }
      const start = page.offsets[i]!;
      const end = page.offsets[i + 1]!;
      if (start === end) return { kind: 'unwritten' };
      if (now >= page.expiresAt - TOKEN_EXPIRY_MARGIN_MS) return undefined;
      return { kind: 'token', token: page.bytes.toString('latin1', start, end) };
    }
    return undefined;
  }

  /** Forgets every page that holds block `index` (the service rejected its token). */
  forget(index: number): void {
    this.pages = this.pages.filter((page) => {
      const holds = index >= page.from && index <= page.to && findIndex(page.indexes, index) >= 0;
      if (holds) this.tokenCount -= page.indexes.length;
      return !holds;
    });
  }

  clear(): void {
    this.pages = [];
    this.tokenCount = 0;
  }
}

function findIndex(sorted: Uint32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
