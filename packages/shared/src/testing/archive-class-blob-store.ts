/**
 * ArchiveClassBlobStore: wraps a BlobStore and behaves as S3 does for objects in the archive
 * storage classes (GLACIER, DEEP_ARCHIVE), for tests of what the S3 test server cannot do: such
 * an object cannot be read (NotRetrievedError, S3's InvalidObjectState) until a retrieval was
 * asked for and `retrievalMs` of the test's clock have passed; the copy then stays readable for
 * the days asked. Everything else reads at once. Put options and retrieval requests are recorded.
 */
import { NotFoundError, NotRetrievedError } from '../errors.js';
import {
  isArchiveStorageClass,
  type BlobData,
  type BlobStore,
  type ByteRange,
  type ObjectInfo,
  type PutOptions,
  type RetrievalState,
  type RetrievalTier,
} from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';

const DAY_MS = 24 * 3600_000;

export class ArchiveClassBlobStore implements BlobStore {
  readonly location: string;
  /** Every put's options, by key (the last one). */
  readonly putOptions = new Map<string, PutOptions>();
  /** Retrieval requests, in order. */
  readonly requests: { key: string; days: number; tier: RetrievalTier }[] = [];
  /** Reads refused because the object was not retrieved. */
  refusedReads = 0;
  private readonly archived = new Set<string>();
  private readonly retrievals = new Map<string, { readyAt: number; expiresAt: number }>();

  constructor(
    readonly inner: BlobStore,
    private readonly clock: Clock,
    private readonly retrievalMs = 4 * 3600_000,
  ) {
    this.location = inner.location;
  }

  async put(key: string, data: BlobData, options: PutOptions = {}): Promise<void> {
    await this.inner.put(key, data, options);
    this.putOptions.set(key, options);
    if (isArchiveStorageClass(options.storageClass)) this.archived.add(key);
    else this.archived.delete(key);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    if ((await this.retrievalState(key)) !== 'readable') {
      this.refusedReads++;
      throw new NotRetrievedError(`${this.location}: get ${key}: the object is in an archive storage class and not retrieved`, key);
    }
    return this.inner.get(key, range);
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(key);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    this.archived.delete(key);
    this.retrievals.delete(key);
  }

  async retrievalState(key: string): Promise<RetrievalState> {
    if (!(await this.inner.stat(key))) throw new NotFoundError(`${this.location}: no object ${key}`);
    if (!this.archived.has(key)) return 'readable';
    const r = this.retrievals.get(key);
    const now = this.clock.now().getTime();
    if (!r || now >= r.expiresAt) return 'archived';
    return now >= r.readyAt ? 'readable' : 'retrieving';
  }

  async requestRetrieval(key: string, options: { days: number; tier: RetrievalTier }): Promise<void> {
    if (!(await this.inner.stat(key))) throw new NotFoundError(`${this.location}: no object ${key}`);
    this.requests.push({ key, ...options });
    if ((await this.retrievalState(key)) !== 'archived') return;
    const now = this.clock.now().getTime();
    this.retrievals.set(key, { readyAt: now + this.retrievalMs, expiresAt: now + this.retrievalMs + options.days * DAY_MS });
  }
}
