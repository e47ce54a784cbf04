/**
 * Checks a volume (a restored copy, a device) against a snapshot, block by block: every chunk
 * read back must have the id the manifest names (a hole must read as zeros). A restore checks
 * each chunk before it writes it; this proves what reached the disk. Costs the volume's bytes
 * read and hashed, and the snapshot's manifest, nothing else of the repository.
 */
import { CorruptDataError } from '../errors.js';
import { fromHex, ID_BYTES } from '../format/ids.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { TreeReader } from '../manifest/tree-reader.js';
import { chunkCount } from '../format/tree-shape.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import type { VolumeSource } from '../ports/volume-source.js';
import { loadSnapshotIndex } from './snapshot-index.js';
import type { Repository } from './repository.js';

export interface VolumeCheckReport {
  /** Chunks compared. */
  chunks: number;
  /** Chunks whose content differs from the snapshot's. */
  mismatched: number;
  /** Byte offset of the first that differs. */
  firstMismatchAt?: number;
  bytesRead: number;
}

export async function checkVolumeAgainstSnapshot(repo: Repository, pool: CodecPool, entry: SnapshotEntry, source: VolumeSource): Promise<VolumeCheckReport> {
  const { snapshot } = entry;
  if (source.sizeBytes !== snapshot.sizeBytes) {
    throw new CorruptDataError(`the volume holds ${source.sizeBytes} bytes but snapshot ${entry.id} has ${snapshot.sizeBytes}`);
  }
  const chunkSize = snapshot.chunkSize;
  const chunks = chunkCount(snapshot.sizeBytes, chunkSize);
  const scoped = await loadSnapshotIndex(repo, entry);
  try {
    const reader = new TreeReader(
      fromHex(snapshot.tree.root),
      snapshot.tree.height,
      chunks,
      createNodeLoader(repo, pool, 'corrupt', scoped.index, scoped.ensure),
    );
    const perBlock = source.blockSize / chunkSize;
    const report: VolumeCheckReport = { chunks: 0, mismatched: 0, bytesRead: 0 };
    const blocks = Math.ceil(snapshot.sizeBytes / source.blockSize);
    for (let b = 0; b < blocks; b++) {
      const first = b * perBlock;
      const count = Math.min(perBlock, chunks - first);
      const [data, expected] = await Promise.all([source.readBlock(b), reader.read(first, count)]);
      report.bytesRead += data.byteLength;
      const got = await pool.hashChunks(data, chunkSize);
      for (let i = 0; i < count; i++) {
        const same = Buffer.compare(got.subarray(i * ID_BYTES, (i + 1) * ID_BYTES), expected.subarray(i * ID_BYTES, (i + 1) * ID_BYTES)) === 0;
        if (same) continue;
        report.mismatched++;
        report.firstMismatchAt ??= (first + i) * chunkSize;
      }
      report.chunks += count;
    }
    return report;
  } finally {
    await scoped.close();
  }
}
