/** A typed array that grows by doubling: the blob index holds millions of numbers compactly. */
export class GrowableU32 {
  private data = new Uint32Array(1024);
  length = 0;

  push(v: number): number {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length] = v;
    return this.length++;
  }

  get(i: number): number {
    return this.data[i]!;
  }
}
