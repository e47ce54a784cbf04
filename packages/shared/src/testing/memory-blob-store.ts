/**
 * MemoryBlobStore: a BlobStore held in a Map, for engine unit tests. It copies bytes on the way in
 * and out so a caller that reuses or transfers its buffers cannot change what is "stored", just as
 * with a real store.
 */
import { InvalidInputError, NotFoundError } from '../errors.js';
import { joinBlobData, type BlobData, type BlobStore, type ByteRange, type ObjectInfo } from '../ports/blob-store.js';

export class MemoryBlobStore implements BlobStore {
  readonly location: string;
  private readonly objects = new Map<string, Uint8Array>();

  constructor(name = 'memory') {
    this.location = `memory://${name}`;
  }

  /** How many objects are stored; handy in assertions. */
  get size(): number {
    return this.objects.size;
  }

  /** Every stored key, sorted, for assertions and debugging. */
  keys(): string[] {
    return [...this.objects.keys()].sort();
  }

  async put(key: string, data: BlobData): Promise<void> {
    checkKey(key);
    // Replacing the Map entry in one step is what makes the put atomic for readers.
    this.objects.set(key, Uint8Array.from(joinBlobData(data)));
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    checkKey(key);
    const data = this.objects.get(key);
    if (data === undefined) throw new NotFoundError(`${this.location}: no object ${key}`);
    if (range === undefined) return Uint8Array.from(data);
    checkRange(range, data.length, key);
    return data.slice(range.offset, range.offset + range.length);
  }

  async getInto(key: string, range: ByteRange, into: Uint8Array): Promise<Uint8Array> {
    if (into.byteLength < range.length) throw new RangeError(`getInto: ${range.length} bytes do not fit in ${into.byteLength}`);
    const part = await this.get(key, range);
    into.set(part);
    return into.subarray(0, part.length);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    checkKey(key);
    const data = this.objects.get(key);
    return data === undefined ? undefined : { key, size: data.length };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // Snapshot the keys first: puts and deletes during the listing must not break the iteration.
    const matches = [...this.objects.entries()].filter(([key]) => key.startsWith(prefix));
    for (const [key, data] of matches) yield { key, size: data.length };
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.objects.delete(key);
  }
}

function checkKey(key: string): void {
  if (key.length === 0 || key.startsWith('/')) {
    throw new InvalidInputError(`invalid object key ${JSON.stringify(key)}`, 'key');
  }
}

/** Shared by the fakes: a range must lie wholly inside the object. */
export function checkRange(range: ByteRange, size: number, key: string): void {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new InvalidInputError(`invalid range ${offset}+${length} for ${key}`, 'range');
  }
  if (offset + length > size) {
    throw new InvalidInputError(`range ${offset}+${length} is past the end of ${key} (${size} bytes)`, 'range');
  }
}
