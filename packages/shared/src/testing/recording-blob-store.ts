/**
 * RecordingBlobStore: wraps a BlobStore and records every call (the operation and its key, or
 * the prefix of a list), for tests that assert what an operation touches: that listing one
 * volume's snapshots reads only that volume's objects, for example.
 */
import type { BlobData, BlobStore, ByteRange, ObjectInfo, PutOptions } from '../ports/blob-store.js';
import type { BlobOp } from './faulty-blob-store.js';

export interface RecordedCall {
  op: BlobOp;
  /** The key; for list, the prefix. */
  key: string;
  /** A put's options, when it had any. */
  options?: PutOptions;
}

export class RecordingBlobStore implements BlobStore {
  readonly calls: RecordedCall[] = [];

  constructor(readonly inner: BlobStore) {}

  get location(): string {
    return this.inner.location;
  }

  /** Keys (list: prefixes) of the recorded calls of `op` that start with `prefix`, in call order. */
  keys(op: BlobOp, prefix = ''): string[] {
    return this.calls.filter((c) => c.op === op && c.key.startsWith(prefix)).map((c) => c.key);
  }

  clear(): void {
    this.calls.length = 0;
  }

  put(key: string, data: BlobData, options?: PutOptions): Promise<void> {
    this.calls.push({ op: 'put', key, ...(options ? { options } : {}) });
    return this.inner.put(key, data, options);
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    this.calls.push({ op: 'get', key });
    return this.inner.get(key, range);
  }

  async getInto(key: string, range: ByteRange, into: Uint8Array): Promise<Uint8Array> {
    this.calls.push({ op: 'get', key });
    if (this.inner.getInto) return this.inner.getInto(key, range, into);
    const part = await this.inner.get(key, range);
    into.set(part);
    return into.subarray(0, part.byteLength);
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    this.calls.push({ op: 'stat', key });
    return this.inner.stat(key);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    this.calls.push({ op: 'list', key: prefix });
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    this.calls.push({ op: 'delete', key });
    return this.inner.delete(key);
  }
}
