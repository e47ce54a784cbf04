/**
 * S3BlobStore: a repository in an S3 bucket (or an S3-compatible server) under a key prefix.
 * S3 PUTs are atomic by design, so puts need no temp-and-rename: objects up to the multipart
 * threshold go up in one PutObject, larger ones as a multipart Upload (parallel parts, and a
 * failed part is resent alone).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  PutObjectRetentionCommand,
  RestoreObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  InvalidInputError,
  joinBlobData,
  NotFoundError,
  TransientError,
  type BlobData,
  type BlobStore,
  type ByteRange,
  type ObjectInfo,
  type ObjectRetention,
  type PutOptions,
  type RetrievalState,
  type RetrievalTier,
} from '@snapfleet/shared';
import { validateBlobKey, validateListPrefix } from '../blob-key.js';
import { classifyS3Error } from './s3-errors.js';
import { DEFAULT_MAX_ATTEMPTS, s3ClientConfig, s3OptionsFromEnv, validateS3Options, type S3StoreOptions } from './s3-options.js';

/**
 * The SDK retries a request that fails, but not a body that breaks off after the headers came (a
 * connection reset mid-download, a body shorter than its Content-Length): such a get is sent
 * again, as many times in all as the SDK tries a request (maxAttempts). Three were too few: with
 * 4% of bodies cut (the fault proxy's 10% scenario) they leave one get in 16,000 failing, so
 * about one run in 60 of that test's 240 gets; six leave one in four billion. The waits double
 * from 100 ms (3.1 s in all for six attempts). A retry after the object was deleted meanwhile
 * gets the usual not-found.
 */
const BODY_RETRY_BASE_MS = 100;

export class S3BlobStore implements BlobStore {
  readonly location: string;
  private readonly client: S3Client;

  /** `client` is for tests that mock the SDK; normally the store builds its own from `options`. */
  constructor(
    private readonly options: S3StoreOptions,
    client?: S3Client,
  ) {
    validateS3Options(options);
    this.location = `s3://${options.bucket}/${options.prefix}`.replace(/\/$/, '');
    this.client = client ?? new S3Client(s3ClientConfig(options));
  }

  static fromEnv(repoUrl: string, env: Record<string, string | undefined>): S3BlobStore {
    return new S3BlobStore(s3OptionsFromEnv(repoUrl, env));
  }

  async put(key: string, parts: BlobData, options: PutOptions = {}): Promise<void> {
    const Key = this.objectKey(key);
    // STANDARD is what S3 stores without the header: it is sent for the other classes only.
    const StorageClass = options.storageClass && options.storageClass !== 'STANDARD' ? options.storageClass : undefined;
    const extra = {
      ...(StorageClass ? { StorageClass } : {}),
      // S3 takes a retention on a put only with a checksum of the body: CRC32, sent as a header
      // (the body is a Buffer of known length, never aws-chunked).
      ...(options.retention
        ? { ObjectLockMode: options.retention.mode, ObjectLockRetainUntilDate: options.retention.until, ChecksumAlgorithm: 'CRC32' as const }
        : {}),
    };
    // One buffer: request bodies must have a known length (see the Body note below).
    const data = joinBlobData(parts);
    // A Buffer view, not a copy: the SDK sends Buffers as fixed-length bodies (never aws-chunked).
    const Body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    try {
      if (data.byteLength <= this.options.multipartThresholdBytes) {
        await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key, Body, ContentLength: data.byteLength, ...extra }));
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.options.bucket, Key, Body, ...extra },
        partSize: this.options.partSizeBytes,
        queueSize: this.options.uploadConcurrency,
        leavePartsOnError: false, // abort the multipart upload on failure: orphan parts cost money
      });
      try {
        await upload.done();
      } catch (err) {
        if (await this.uploadLanded(Key, data)) return;
        throw err;
      }
    } catch (err) {
      throw classifyS3Error(err, { op: 'put', location: this.location, key });
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const Key = this.objectKey(key);
    if (range !== undefined) checkRangeShape(range, key);
    // HTTP cannot express an empty range: check the object's size instead.
    if (range?.length === 0) return this.emptyRange(key, range.offset);
    const command = () =>
      new GetObjectCommand({
        Bucket: this.options.bucket,
        Key,
        ...(range !== undefined ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
      });
    const attempts = this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    for (let attempt = 1; ; attempt++) {
      let response;
      try {
        response = await this.client.send(command());
      } catch (err) {
        throw classifyS3Error(err, { op: 'get', location: this.location, key });
      }
      try {
        if (response.Body === undefined) throw new TransientError(`S3 get ${this.location} key ${key}: response had no body`);
        const bytes = await response.Body.transformToByteArray();
        if (response.ContentLength !== undefined && bytes.length !== response.ContentLength) {
          throw new TransientError(
            `S3 get ${this.location} key ${key}: body ended after ${bytes.length} of ${response.ContentLength} bytes (attempt ${attempt} of ${attempts})`,
          );
        }
        return range === undefined ? bytes : this.requestedRange(bytes, response.ContentRange, range, key);
      } catch (err) {
        const classified = classifyS3Error(err, { op: 'get', location: this.location, key, attempts: attempt });
        if (!(classified instanceof TransientError) || attempt >= attempts) throw classified;
        await sleep(BODY_RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.objectKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key }));
      return { key, size: head.ContentLength ?? 0, ...(head.ObjectLockRetainUntilDate ? { retainUntil: head.ObjectLockRetainUntilDate } : {}) };
    } catch (err) {
      const classified = classifyS3Error(err, { op: 'stat', location: this.location, key });
      if (classified instanceof NotFoundError) return undefined;
      throw classified;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validateListPrefix(prefix);
    const root = this.options.prefix;
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.options.bucket, Prefix: root + prefix });
    try {
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined || !object.Key.startsWith(root)) continue;
          yield { key: object.Key.slice(root.length), size: object.Size ?? 0 };
        }
      }
    } catch (err) {
      throw classifyS3Error(err, { op: 'list', location: this.location, key: prefix });
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key }));
    } catch (err) {
      const classified = classifyS3Error(err, { op: 'delete', location: this.location, key });
      if (classified instanceof NotFoundError) return; // already gone: deletes are idempotent
      throw classified;
    }
  }

  /**
   * HeadObject: an object in GLACIER or DEEP_ARCHIVE is readable only while a retrieved copy
   * exists (`x-amz-restore: ongoing-request="false", expiry-date=...`); `ongoing-request="true"`
   * is a retrieval under way. Every other class reads at once.
   */
  async retrievalState(key: string): Promise<RetrievalState> {
    const Key = this.objectKey(key);
    let head;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key }));
    } catch (err) {
      throw classifyS3Error(err, { op: 'stat', location: this.location, key });
    }
    if (head.StorageClass !== 'GLACIER' && head.StorageClass !== 'DEEP_ARCHIVE') return 'readable';
    if (head.Restore === undefined) return 'archived';
    return /ongoing-request="true"/.test(head.Restore) ? 'retrieving' : 'readable';
  }

  /** RestoreObject: a readable copy for `days`; one already under way (409) is fine. */
  async requestRetrieval(key: string, options: { days: number; tier: RetrievalTier }): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(
        new RestoreObjectCommand({ Bucket: this.options.bucket, Key, RestoreRequest: { Days: options.days, GlacierJobParameters: { Tier: options.tier } } }),
      );
    } catch (err) {
      const f = err as { name?: string; Code?: string };
      if (f.name === 'RestoreAlreadyInProgress' || f.Code === 'RestoreAlreadyInProgress') return;
      throw classifyS3Error(err, { op: 'restore-object', location: this.location, key });
    }
  }

  /** Sets the object's Object Lock retention; S3 refuses to shorten it (AccessDenied). */
  async extendRetention(key: string, retention: ObjectRetention): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(
        new PutObjectRetentionCommand({ Bucket: this.options.bucket, Key, Retention: { Mode: retention.mode, RetainUntilDate: retention.until } }),
      );
    } catch (err) {
      throw classifyS3Error(err, { op: 'put-retention', location: this.location, key });
    }
  }

  /** Fails unless the bucket has Object Lock enabled (it can only be enabled on a versioned bucket). */
  async checkObjectLock(): Promise<void> {
    let enabled: string | undefined;
    try {
      const answer = await this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.options.bucket }));
      enabled = answer.ObjectLockConfiguration?.ObjectLockEnabled;
    } catch (err) {
      const classified = classifyS3Error(err, { op: 'get-object-lock-configuration', location: this.location, key: '' });
      // S3 answers ObjectLockConfigurationNotFoundError (404) for a bucket without Object Lock.
      if (!(classified instanceof NotFoundError)) throw classified;
    }
    if (enabled !== 'Enabled') {
      throw new InvalidInputError(
        `bucket ${this.options.bucket} does not have Object Lock enabled: create it with Object Lock (docs/aws.md, "Object Lock")`,
        'object-lock',
      );
    }
  }

  /**
   * Whether a multipart upload that reported failure stored the object all the same. When the
   * answer to a CompleteMultipartUpload is lost after the server acted on it (a 5xx or a reset
   * connection on the way back), the SDK sends it again, and that can fail: the upload is
   * completed and gone (S3 can answer NoSuchUpload, "the upload may have been aborted or
   * completed"; s3rver answers 500 every time). The object is there if HEAD shows these very
   * bytes: their length and an ETag that is
   * either S3's multipart form (MD5 of the parts' MD5s, "-" part count) or the MD5 of the whole
   * (what s3rver and some other servers use). Anything else, including an ETag that is no MD5
   * (SSE-KMS), keeps the original error: the put is then retried or fails, never assumed.
   */
  private async uploadLanded(Key: string, data: Uint8Array): Promise<boolean> {
    let head;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key }));
    } catch {
      return false;
    }
    if (head.ContentLength !== data.byteLength || head.ETag === undefined) return false;
    const etag = head.ETag.replace(/"/g, '');
    return etag === md5Hex(data) || etag === multipartEtag(data, this.options.partSizeBytes);
  }

  /** Closes the client's sockets; the store is unusable afterwards. */
  destroy(): void {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    validateBlobKey(key);
    return this.options.prefix + key;
  }

  /**
   * Checks a ranged response against what was asked. S3 shortens a range that runs past the end
   * instead of failing it (the port says fail), and some servers return more than asked (s3rver
   * answers `bytes=0-0` with the whole object) or ignore Range entirely (200 with no
   * Content-Range): take exactly the requested bytes in those cases.
   */
  private requestedRange(bytes: Uint8Array, contentRange: string | undefined, range: ByteRange, key: string): Uint8Array {
    const parsed = contentRange === undefined ? undefined : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange);
    const start = parsed ? Number(parsed[1]) : 0;
    const total = parsed && parsed[3] !== '*' ? Number(parsed[3]) : parsed ? undefined : bytes.length;
    if (total !== undefined && range.offset + range.length > total) {
      throw new InvalidInputError(`range ${range.offset}+${range.length} is past the end of ${key} (${total} bytes)`, 'range');
    }
    const from = range.offset - start;
    if (from < 0 || from + range.length > bytes.length) {
      throw new TransientError(
        `S3 get ${this.location} key ${key}: asked for range ${range.offset}+${range.length}, got ${contentRange ?? `${bytes.length} bytes`}`,
      );
    }
    if (from === 0 && bytes.length === range.length) return bytes;
    return bytes.slice(from, from + range.length);
  }

  private async emptyRange(key: string, offset: number): Promise<Uint8Array> {
    const info = await this.stat(key);
    if (info === undefined) throw new NotFoundError(`S3 get ${this.location} key ${key}: no such object`);
    if (offset > info.size) throw new InvalidInputError(`range ${offset}+0 is past the end of ${key} (${info.size} bytes)`, 'range');
    return new Uint8Array(0);
  }
}

function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** S3's ETag of a multipart object: the MD5 of the parts' MD5 digests, then `-` and the part count. */
function multipartEtag(data: Uint8Array, partSize: number): string {
  const outer = createHash('md5');
  let parts = 0;
  for (let offset = 0; offset < data.byteLength; offset += partSize, parts++) {
    outer.update(
      createHash('md5')
        .update(data.subarray(offset, offset + partSize))
        .digest(),
    );
  }
  return `${outer.digest('hex')}-${parts}`;
}

function checkRangeShape(range: ByteRange, key: string): void {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new InvalidInputError(`invalid range ${offset}+${length} for ${key}`, 'range');
  }
}
