/**
 * Snapshot objects (snapshots/<volume key>/<id>, or snapshots/<id> in format 1): one per archived
 * point in time of one volume. The id is the SHA-256 of the plaintext JSON, so the object names
 * itself. A snapshot exists iff this object exists, and it is written last, after every pack and
 * index it references.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CorruptDataError } from '../errors.js';
import { chunkCount, treeHeight } from './tree-shape.js';
import { parseJsonObject } from './json-object.js';
import { isValidChunkSize } from './repo-config.js';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const snapshotSchema = z.object({
  version: z.number().int().min(1),
  volumeId: z.string().min(1),
  /** When the volume was captured (ISO 8601 UTC); may be set explicitly to import histories. */
  time: z.iso.datetime(),
  tags: z.array(z.string()),
  hostname: z.string().optional(),
  sizeBytes: z.number().int().nonnegative(),
  chunkSize: z.number().int().positive(),
  tree: z.object({ root: hex64, height: z.number().int().min(1) }),
  parent: hex64.optional(),
  /** The provider's id of the captured point in time (an EBS snapshot id), for changed blocks. */
  sourceRef: z.string().optional(),
  /** The id of its pack list (packlists/<id>): the packs its blobs were in when archived. */
  packList: hex64.optional(),
  /**
   * Set by `repair snapshots`: runs of blocks `[first, count]` whose data was lost to damage and
   * that the manifest records as holes (a restore writes zeros there and says so).
   */
  damaged: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().positive()])).optional(),
  /** Set by `repair snapshots`: the id of the damaged snapshot this one replaces. */
  repairedFrom: hex64.optional(),
  stats: z.object({
    readBytes: z.number().nonnegative(),
    newBlobs: z.number().int().nonnegative(),
    newBytes: z.number().nonnegative(),
    storedBytes: z.number().nonnegative(),
    holeChunks: z.number().int().nonnegative(),
    changedBlocksOnly: z.boolean(),
  }),
});

export type Snapshot = z.infer<typeof snapshotSchema>;
export type SnapshotStats = Snapshot['stats'];

export interface SnapshotEntry {
  id: string;
  snapshot: Snapshot;
  /** The object it was read from; listings set it. Without it, the id and volume give the keys. */
  key?: string;
}

export function encodeSnapshot(s: Snapshot): { id: string; payload: Buffer } {
  const payload = Buffer.from(JSON.stringify(s));
  return { id: createHash('sha256').update(payload).digest('hex'), payload };
}

export function decodeSnapshot(payload: Uint8Array, id: string, key = `snapshots/${id}`): Snapshot {
  const actual = createHash('sha256').update(payload).digest('hex');
  if (actual !== id) throw new CorruptDataError(`snapshot ${id}: content hashes to ${actual}`, { snapshotId: id, object: key });
  const site = { snapshotId: id, object: key };
  const snapshot = parseJsonObject(payload, snapshotSchema, `snapshot ${id}`, site);
  // Readers size buffers by the chunk size and walk the tree by its height: a value no writer
  // stores (a chunk size of a terabyte, a height of a million) is damage, refused here.
  if (!isValidChunkSize(snapshot.chunkSize))
    throw new CorruptDataError(`snapshot ${id} is malformed at chunkSize: ${snapshot.chunkSize} is not a power of two from 4 KiB to 4 MiB`, site);
  const height = treeHeight(chunkCount(snapshot.sizeBytes, snapshot.chunkSize));
  if (snapshot.tree.height !== height)
    throw new CorruptDataError(`snapshot ${id} is malformed at tree.height: ${snapshot.tree.height}, a volume of its size has ${height}`, site);
  return snapshot;
}
