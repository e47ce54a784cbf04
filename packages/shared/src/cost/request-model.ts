/**
 * What one archive of one volume costs in requests, from the bytes it reads and stores.
 *
 * EBS direct APIs: GetSnapshotBlock is billed per 512 KiB block returned; the blocks to read are
 * listed in pages of at most 10,000 (ListSnapshotBlocks for a first, full archive; ListChangedBlocks
 * against the parent's snapshot for an incremental one), and even a listing that finds nothing
 * costs one call.
 *
 * S3: every pack is a PUT, and so is its index object (pack-writer.ts writes both); each archive
 * also writes its lease, its pack list and its snapshot object, lists a few prefixes (LIST is
 * billed as a PUT), and reads a few small objects (the parent snapshot and its pack list, the
 * lease check). Index objects the host's index cache already holds are not read again, so index
 * reads are not counted.
 */

/** The EBS direct APIs' block size. */
export const EBS_BLOCK_BYTES = 512 * 1024;
/** The most blocks one ListSnapshotBlocks / ListChangedBlocks page returns (the providers ask for this many). */
export const LIST_PAGE_BLOCKS = 10_000;
/** Per archive, beyond its packs and their index objects: the lease, the pack list, the snapshot. */
export const SMALL_PUTS_PER_ARCHIVE = 3;
/** Per archive: listings of the index, the volume's snapshots and the leases. */
export const LISTS_PER_ARCHIVE = 3;
/** Per archive: reads of small objects (parent snapshot, pack list, leases, manifest roots). */
export const GETS_PER_ARCHIVE = 10;

export interface ArchiveRequests {
  /** GetSnapshotBlock calls (AWS only). */
  blocks: number;
  /** ListSnapshotBlocks or ListChangedBlocks calls (AWS only). */
  lists: number;
  /** Pack PUTs, in the repository's pack storage class. */
  packPuts: number;
  /** Other PUT and LIST requests, on STANDARD objects: index objects, lease, pack list, snapshot, listings. */
  otherPuts: number;
  gets: number;
}

/**
 * Whole units of `unit` that `bytes` fill, the last one partly. A product such as 3% of 100 GiB
 * carries float noise (3221225472.0000005): without the tolerance it would need 6145 blocks, not 6144.
 */
export function wholeUnits(bytes: number, unit: number): number {
  return bytes <= 0 ? 0 : Math.ceil(bytes / unit - 1e-9);
}

export function archiveRequests(readBytes: number, storedBytes: number, packBytes: number): ArchiveRequests {
  const blocks = wholeUnits(readBytes, EBS_BLOCK_BYTES);
  const packPuts = wholeUnits(storedBytes, packBytes);
  return {
    blocks,
    lists: Math.max(1, Math.ceil(blocks / LIST_PAGE_BLOCKS)),
    packPuts,
    otherPuts: packPuts + SMALL_PUTS_PER_ARCHIVE + LISTS_PER_ARCHIVE,
    gets: GETS_PER_ARCHIVE,
  };
}
