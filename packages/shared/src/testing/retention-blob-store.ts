/**
 * RetentionBlobStore: wraps a BlobStore and enforces S3 Object Lock the way a bucket with Object
 * Lock does, for tests of what the S3 test server cannot enforce: an object put with a retention
 * date cannot be deleted before it (the delete fails, as S3's AccessDenied does), compliance
 * retention cannot be shortened, governance retention only with `bypassGovernance`. It records
 * every retention it was asked to set, so tests can check which objects were extended.
 */
import { NotFoundError, PermanentError } from '../errors.js';
import type { BlobData, BlobStore, ByteRange, ObjectInfo, ObjectRetention, PutOptions } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';

export class RetentionBlobStore implements BlobStore {
  readonly location: string;
  /** Each object's retention as the store holds it. */
  readonly retention = new Map<string, ObjectRetention>();
  /** Every put's options, by key (the last one). */
  readonly putOptions = new Map<string, PutOptions>();
  /** Keys whose retention extendRetention set, in call order. */
  readonly extended: string[] = [];
  /** Deletes refused because retention held the object. */
  refusedDeletes = 0;

  constructor(
    readonly inner: BlobStore,
    private readonly clock: Clock,
    private readonly options: { bypassGovernance?: boolean } = {},
  ) {
    this.location = inner.location;
  }

  async put(key: string, data: BlobData, options: PutOptions = {}): Promise<void> {
    await this.inner.put(key, data, options);
    this.putOptions.set(key, options);
    // A versioned bucket keeps the older version under its own retention: the later date holds.
    const held = this.retention.get(key);
    if (options.retention && (!held || held.until.getTime() <= options.retention.until.getTime())) this.retention.set(key, options.retention);
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.inner.get(key, range);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const info = await this.inner.stat(key);
    const held = this.retention.get(key);
    return info && held ? { ...info, retainUntil: held.until } : info;
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  async delete(key: string): Promise<void> {
    const held = this.retention.get(key);
    if (held && held.until.getTime() > this.clock.now().getTime() && !(held.mode === 'GOVERNANCE' && this.options.bypassGovernance)) {
      this.refusedDeletes++;
      throw new PermanentError(
        `${this.location}: delete ${key}: access denied, the object is under ${held.mode.toLowerCase()} retention until ${held.until.toISOString()}`,
      );
    }
    await this.inner.delete(key);
    this.retention.delete(key);
  }

  async extendRetention(key: string, retention: ObjectRetention): Promise<void> {
    if (!(await this.inner.stat(key))) throw new NotFoundError(`${this.location}: no object ${key}`);
    const held = this.retention.get(key);
    if (held && retention.until.getTime() < held.until.getTime() && !(held.mode === 'GOVERNANCE' && this.options.bypassGovernance)) {
      throw new PermanentError(
        `${this.location}: retention of ${key} cannot be shortened from ${held.until.toISOString()} to ${retention.until.toISOString()}`,
      );
    }
    if (held?.mode === 'COMPLIANCE' && retention.mode === 'GOVERNANCE')
      throw new PermanentError(`${this.location}: compliance retention of ${key} cannot become governance`);
    this.retention.set(key, retention);
    this.extended.push(key);
  }

  async checkObjectLock(): Promise<void> {}
}
