/**
 * Collects encoded frames into packs and stores them: pack first, then its index object. Only
 * after both are stored do the pack's blobs enter the in-memory index; until then the caller
 * keeps them in its pending set. A crash between the two leaves an orphan pack, which a later
 * open adopts (repository.ts) so its blobs are never stored twice.
 *
 * Frames are copied into a pack buffer as they arrive, and the buffers of stored packs are
 * reused: memory stays at (uploads in flight + 1) packs, allocated once, instead of hundreds of
 * megabytes of short-lived frame buffers for the garbage collector to chase.
 *
 * Adds and flushes take turns (one at a time, in arrival order). Several producers add at once
 * (every block in flight, and the manifest's frames); were they let in while a full pack waits
 * for an upload slot, each would start a pack buffer of its own, and a long archive on a busy
 * host gathered twice the buffers this budget allows.
 */
import { randomBytes } from 'node:crypto';
import { blobDataLength, type BlobStore, type PutOptions } from '../ports/blob-store.js';
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
/** Room past the pack size for the frame that crosses it (frames hold ~256 KiB of plaintext). */
const LAST_FRAME_ROOM = 512 * 1024;

export interface StoredFrame extends FrameEntry {
  stored: Uint8Array;
}

export interface PackWriterStats {
  packs: number;
  storedBytes: number;
}

export class PackWriter {
  /** The pack being filled: its frames' bytes back to back, and their descriptions. */
  private buffer?: Uint8Array;
  private size = 0;
  private entries: FrameEntry[] = [];
  /** Buffers of stored packs, for the next packs to fill. */
  private readonly spare: Uint8Array[] = [];
  private readonly uploads = new Semaphore(UPLOADS_IN_FLIGHT);
  /** One add or flush at a time: see above. */
  private readonly turn = new Semaphore(1);
  private readonly tasks = new TaskGroup();
  readonly stats: PackWriterStats = { packs: 0, storedBytes: 0 };

  constructor(
    private readonly store: BlobStore,
    private readonly keys: MasterKeys,
    private readonly onStored: (pack: IndexedPack) => void,
    private readonly packSize = DEFAULT_PACK_SIZE,
    /** How packs are put (their storage class); index objects take the store's default. */
    private readonly packPut: PutOptions = {},
  ) {}

  /** Copies the frame into the pack being filled: the caller may reuse `frame.stored` at once. */
  async add(frame: StoredFrame): Promise<void> {
    await this.turn.run(async () => {
      this.tasks.check();
      const { type, compression, storedLength, rawLength, ids, lengths, stored } = frame;
      const buffer = this.room(stored.byteLength);
      buffer.set(stored, this.size);
      this.size += stored.byteLength;
      this.entries.push({ type, compression, storedLength, rawLength, ids, lengths });
      if (this.size >= this.packSize) await this.startPack();
    });
  }

  /** Starts storing the frames collected so far as one pack; waits only for an upload slot. */
  async flush(): Promise<void> {
    await this.turn.run(() => this.startPack());
  }

  /** Flushes and waits until every pack and index object is stored. */
  async close(): Promise<void> {
    await this.flush();
    await this.tasks.wait();
  }

  /** flush, for a caller that has the turn. */
  private async startPack(): Promise<void> {
    if (this.entries.length === 0 || this.buffer === undefined) return;
    const { buffer, size, entries } = this;
    this.buffer = undefined;
    this.size = 0;
    this.entries = [];
    await this.uploads.acquire();
    this.tasks.spawn(
      this.storePack(entries, buffer.subarray(0, size)).finally(() => {
        this.spare.push(buffer);
        this.uploads.release();
      }),
    );
  }

  /** The pack buffer, with room for `bytes` more; grown (rarely: huge chunks) by copying. */
  private room(bytes: number): Uint8Array {
    const need = this.size + bytes;
    let buffer = this.buffer ?? this.spare.pop() ?? new Uint8Array(Math.max(need, this.packSize + LAST_FRAME_ROOM));
    if (buffer.byteLength < need) {
      const bigger = new Uint8Array(Math.max(need, buffer.byteLength * 2));
      bigger.set(buffer.subarray(0, this.size));
      buffer = bigger;
    }
    this.buffer = buffer;
    return buffer;
  }

  private async storePack(entries: FrameEntry[], frames: Uint8Array): Promise<void> {
    const header = encodeEnvelope(encodePackHeader(entries), this.keys.enc);
    const trailer = Buffer.allocUnsafe(4);
    trailer.writeUInt32LE(header.length);
    // Random names: unique across writers without coordination. Integrity is checked per frame
    // (AES-GCM, and every blob against its id), so a content hash of the pack would add nothing.
    const packId = randomBytes(32).toString('hex');
    const pack = [frames, header, trailer];
    const packLength = blobDataLength(pack);
    await this.store.put(packKey(packId), pack, this.packPut);
    const indexed: IndexedPack = { packId, packLength, frames: entries };
    await this.store.put(indexKey(packId), encodeEnvelope(encodeIndexPayload([indexed]), this.keys.enc));
    this.stats.packs++;
    this.stats.storedBytes += packLength;
    this.onStored(indexed);
  }
}
