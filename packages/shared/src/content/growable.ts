/** A typed array that grows by doubling: the blob index holds millions of numbers compactly. */
export class GrowableU32 {
  private data: Uint32Array;
  length = 0;

  /** `presize`: numbers held before the first growth. */
  constructor(presize = 1024) {
    this.data = new Uint32Array(Math.max(1, presize));
  }

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
