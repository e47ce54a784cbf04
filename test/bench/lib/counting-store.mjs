// A BlobStore wrapper (packages/shared/src/ports/blob-store.ts) that counts the requests made of
// the store it wraps, as an S3 bucket would bill them: one request per get, ranged get, put,
// stat (HEAD) and delete, and ceil(max(1, keys) / 1000) per listing (ListObjectsV2 returns at
// most 1,000 keys a page, and an empty listing is still one request). The scale scenario puts it
// under the host's index cache, so what it counts is what reaches the bucket.

export const LIST_PAGE_KEYS = 1000;

export const listRequests = (keys) => Math.ceil(Math.max(1, keys) / LIST_PAGE_KEYS);

export class CountingBlobStore {
  constructor(inner) {
    this.inner = inner;
    this.location = inner.location;
    this.counts = { get: 0, rangedGet: 0, put: 0, stat: 0, delete: 0, list: 0 };
    this.bytesRead = 0;
    /** One entry per listing: its prefix and how many keys it returned. */
    this.listings = [];
    // Optional methods exist only when the inner store has them: callers test for them.
    if (inner.getInto) {
      this.getInto = async (key, range, into) => {
        this.counts.rangedGet++;
        const out = await inner.getInto(key, range, into);
        this.bytesRead += out.byteLength;
        return out;
      };
    }
    if (inner.sweepIncomplete) this.sweepIncomplete = (before) => inner.sweepIncomplete(before);
  }

  async put(key, data) {
    this.counts.put++;
    return this.inner.put(key, data);
  }

  async get(key, range) {
    if (range) this.counts.rangedGet++;
    else this.counts.get++;
    const out = await this.inner.get(key, range);
    this.bytesRead += out.byteLength;
    return out;
  }

  async stat(key) {
    this.counts.stat++;
    return this.inner.stat(key);
  }

  async delete(key) {
    this.counts.delete++;
    return this.inner.delete(key);
  }

  async *list(prefix) {
    let keys = 0;
    try {
      for await (const info of this.inner.list(prefix)) {
        keys++;
        yield info;
      }
    } finally {
      // A listing stopped early was still paid for up to the page it reached.
      this.counts.list += listRequests(keys);
      this.listings.push({ prefix, keys });
    }
  }

  /** Requests by kind and in all. */
  summary() {
    const total = Object.values(this.counts).reduce((a, n) => a + n, 0);
    return { ...this.counts, total, listCalls: this.listings.length, bytesRead: this.bytesRead };
  }
}
