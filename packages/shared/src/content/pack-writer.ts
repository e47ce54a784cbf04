/**
 * Collects encoded frames into packs and stores them: pack first, then its index object. Only
 * after both are stored do the pack's blobs enter the in-memory index; until then the caller
 * keeps them in its pending set. A crash between the two leaves an orphan pack, which a later
 * open adopts (repository.ts) so its blobs are never stored twice.
 */
import { randomBytes } from 'node:crypto';
import { blobDataLength, type BlobStore } from '../ports/blob-store.js';
import type { MasterKeys } from '../format/master-keys.js';
import { encodeEnvelope } from '../format/envelope.js';
import { encodePackHeader, type FrameEntry } from '../format/pack-header.js';
import { encodeIndexPayload, type IndexedPack } from '../format/index-object.js';
import { indexKey, packKey } from '../format/layout.js';
import { Semaphore } from './semaphore.js';
import { TaskGroup } from './task-group.js';

/**
 * 16 MiB packs: large enough that object-store request costs stay low (~64 PUTs per GiB
 * stored), small enough that uploads in flight stay within the memory budget.
 */
export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;
/** Two uploads in flight keep a folder store and an S3 connection busy while the next pack fills. */
const UPLOADS_IN_FLIGHT = 2;

export interface StoredFrame extends FrameEntry {
  stored: Uint8Array;
}

export interface PackWriterStats {
  packs: number;
  storedBytes: number;
}

export class PackWriter {
  private frames: StoredFrame[] = [];
  private size = 0;
  private readonly uploads = new Semaphore(UPLOADS_IN_FLIGHT);
  private readonly tasks = new TaskGroup();
  readonly stats: PackWriterStats = { packs: 0, storedBytes: 0 };

  constructor(
    private readonly store: BlobStore,
    private readonly keys: MasterKeys,
    private readonly onStored: (pack: IndexedPack) => void,
    private readonly packSize = DEFAULT_PACK_SIZE,
  ) {}

  async add(frame: StoredFrame): Promise<void> {
    this.tasks.check();
    this.frames.push(frame);
    this.size += frame.stored.byteLength;
    if (this.size >= this.packSize) await this.flush();
  }

  /** Starts storing the frames collected so far as one pack; waits only for an upload slot. */
  async flush(): Promise<void> {
    if (this.frames.length === 0) return;
    const frames = this.frames;
    this.frames = [];
    this.size = 0;
    await this.uploads.acquire();
    this.tasks.spawn(this.storePack(frames).finally(() => this.uploads.release()));
  }

  /** Flushes and waits until every pack and index object is stored. */
  async close(): Promise<void> {
    await this.flush();
    await this.tasks.wait();
  }

  private async storePack(frames: StoredFrame[]): Promise<void> {
    const entries: FrameEntry[] = frames.map(({ type, compression, storedLength, rawLength, ids, lengths }) => ({ type, compression, storedLength, rawLength, ids, lengths }));
    const header = encodeEnvelope(encodePackHeader(entries), this.keys.enc);
    const trailer = Buffer.allocUnsafe(4);
    trailer.writeUInt32LE(header.length);
    // Random names: unique across writers without coordination. Integrity is checked per frame
    // (AES-GCM, and every blob against its id), so a content hash of the pack would add nothing.
    const packId = randomBytes(32).toString('hex');
    const pack = [...frames.map((f) => f.stored), header, trailer];
    const packLength = blobDataLength(pack);
    await this.store.put(packKey(packId), pack);
    const indexed: IndexedPack = { packId, packLength, frames: entries };
    await this.store.put(indexKey(packId), encodeEnvelope(encodeIndexPayload([indexed]), this.keys.enc));
    this.stats.packs++;
    this.stats.storedBytes += packLength;
    this.onStored(indexed);
  }
}
