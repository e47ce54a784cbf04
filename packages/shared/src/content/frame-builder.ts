/**
 * Gathers blobs that arrive one at a time (manifest nodes) into frames and sends each full frame
 * off to be encoded (compressed, sealed) in the codec pool; encoded frames go to the pack writer.
 * Data chunks take a faster path: whole blocks are framed in the pool (BlobWriter.addBlock).
 */
import type { BlobTypeId } from '../format/codec-ids.js';
import { ID_BYTES } from '../format/ids.js';
import type { EncodedFrame } from '../format/frame-codec.js';
import type { StoredFrame } from './pack-writer.js';
import { Semaphore } from './semaphore.js';
import { TaskGroup } from './task-group.js';

/**
 * 256 KiB of plaintext per frame: zstd's ratio on disk-like data is within ~2% of whole-stream
 * compression at this size, while a restore of one 4 KiB block decodes at most 64x its size.
 */
export const DEFAULT_FRAME_SIZE = 256 * 1024;

export class FrameBuilder {
  private buf: Uint8Array;
  private used = 0;
  private blobs: { id: Uint8Array; length: number }[] = [];
  private readonly encodes: Semaphore;
  private readonly tasks = new TaskGroup();
  /**
   * Settles once the last frame handed to encode has been sunk. Frames are sunk in the order
   * they were filled, not the order their encodes finish: a caller that adds blobs in volume
   * order (relocation) gets them laid out in volume order in the packs, which is what makes a
   * restore's reads long and few.
   */
  private sunk: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly type: BlobTypeId,
    private readonly encode: (raw: Uint8Array) => Promise<EncodedFrame>,
    private readonly sink: (frame: StoredFrame) => Promise<void>,
    /** Frames being encoded at once: enough to keep every codec thread busy. */
    inFlight: number,
    private readonly frameSize = DEFAULT_FRAME_SIZE,
  ) {
    this.encodes = new Semaphore(inFlight);
    this.buf = new Uint8Array(frameSize);
  }

  async add(id: Uint8Array, data: Uint8Array): Promise<void> {
    this.tasks.check();
    if (this.used > 0 && this.used + data.byteLength > this.frameSize) await this.flush();
    if (data.byteLength > this.buf.byteLength) this.buf = new Uint8Array(data.byteLength);
    this.buf.set(data, this.used);
    this.used += data.byteLength;
    this.blobs.push({ id, length: data.byteLength });
    if (this.used >= this.frameSize) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.blobs.length === 0) return;
    const raw = this.buf.subarray(0, this.used);
    const blobs = this.blobs;
    const rawLength = this.used;
    // The encoder takes ownership of the buffer (it moves to a worker thread): start a new one.
    this.buf = new Uint8Array(this.frameSize);
    this.used = 0;
    this.blobs = [];
    await this.encodes.acquire();
    const frame = raw.byteLength === raw.buffer.byteLength ? raw : raw.slice();
    const previous = this.sunk;
    const done = this.encode(frame)
      .then(async (e) => {
        const ids = new Uint8Array(blobs.length * ID_BYTES);
        blobs.forEach((b, i) => ids.set(b.id, i * ID_BYTES));
        const lengths = Uint32Array.from(blobs, (b) => b.length);
        await previous;
        return this.sink({ type: this.type, compression: e.compression, storedLength: e.stored.byteLength, rawLength, ids, lengths, stored: e.stored });
      })
      .finally(() => this.encodes.release());
    // A failed frame fails every frame after it too (none is sunk out of order); the task group
    // reports the first failure.
    this.sunk = done;
    this.tasks.spawn(done);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.tasks.wait();
  }
}
