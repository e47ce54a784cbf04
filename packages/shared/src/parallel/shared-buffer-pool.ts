/**
 * Fixed slots of shared memory that the main thread and the codec threads both see. Blocks are
 * read straight into a slot, hashed and framed by threads that read the same memory, and a
 * restore window is laid out by a thread directly in the slot the file is written from: no copy,
 * no transfer, and no allocation per block, so the garbage collector has nothing to chase.
 * Acquire waits when every slot is busy: the pool is also the pipeline's memory bound.
 */
import { SlotPool } from './slot-pool.js';

export class SharedBufferPool extends SlotPool {
  constructor(slotBytes: number, slots: number) {
    const memory = new SharedArrayBuffer(slotBytes * slots);
    super(Array.from({ length: slots }, (_, i) => new Uint8Array(memory, i * slotBytes, slotBytes)));
  }
}
