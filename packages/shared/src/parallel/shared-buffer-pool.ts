/**
 * Fixed slots of shared memory that the main thread and the codec threads both see. Blocks are
 * read straight into a slot, hashed and framed by threads that read the same memory, and a
 * restore window is laid out by a thread directly in the slot the file is written from: no copy,
 * no transfer, and no allocation per block, so the garbage collector has nothing to chase.
 * Acquire waits when every slot is busy: the pool is also the pipeline's memory bound.
 */
export class SharedBufferPool {
  private readonly free: Uint8Array[] = [];
  private readonly waiters: ((slot: Uint8Array) => void)[] = [];

  constructor(slotBytes: number, slots: number) {
    const memory = new SharedArrayBuffer(slotBytes * slots);
    for (let i = 0; i < slots; i++) this.free.push(new Uint8Array(memory, i * slotBytes, slotBytes));
  }

  async acquire(): Promise<Uint8Array> {
    const slot = this.free.pop();
    if (slot) return slot;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(slot: Uint8Array): void {
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}
