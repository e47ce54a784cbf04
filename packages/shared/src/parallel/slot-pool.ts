/**
 * A fixed set of buffers handed out one at a time: acquire waits while every slot is busy, so a
 * pool is also the memory bound of the pipeline that uses it.
 */
export class SlotPool {
  private readonly free: Uint8Array[];
  private readonly waiters: ((slot: Uint8Array) => void)[] = [];

  constructor(slots: readonly Uint8Array[]) {
    this.free = [...slots];
  }

  async acquire(): Promise<Uint8Array> {
    return this.free.pop() ?? new Promise((resolve) => this.waiters.push(resolve));
  }

  release(slot: Uint8Array): void {
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}
