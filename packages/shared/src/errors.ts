/**
 * The engine's error classes. Adapters translate SDK and system errors into these at the boundary,
 * so the engine, the worker and the CLI can decide "retry", "fail now" or "tell the user" without
 * knowing which provider raised them.
 */

export type ErrorKind = 'not-found' | 'permanent' | 'transient' | 'throttled' | 'corrupt' | 'invalid-input' | 'wrong-password';

export abstract class SnapfleetError extends Error {
  abstract readonly kind: ErrorKind;
  /** Transient and throttled errors may succeed when retried; the rest never will. */
  get retryable(): boolean {
    return this.kind === 'transient' || this.kind === 'throttled';
  }
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An object, volume or snapshot that does not exist. */
export class NotFoundError extends SnapfleetError {
  readonly kind = 'not-found';
}

/** A failure that retrying cannot fix: access denied, unsupported format, bad configuration. */
export class PermanentError extends SnapfleetError {
  readonly kind = 'permanent';
}

/** A failure that may pass: a dropped connection, a 5xx, a timeout. */
export class TransientError extends SnapfleetError {
  readonly kind = 'transient';
}

/**
 * Another process holds the repository for work that must not run twice at once (prune). Passes
 * when that process finishes, so it is retried like any transient failure.
 */
export class RepositoryLockedError extends TransientError {
  constructor(
    message: string,
    /** The lease that holds the repository. */
    readonly lock: { holder: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An object under Object Lock retention: it cannot be deleted before `until`. */
export class RetainedObjectError extends PermanentError {
  constructor(
    message: string,
    readonly key: string,
    readonly until: Date,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The object is in an archive storage class (S3 Glacier Flexible Retrieval, Deep Archive) and no
 * retrieved copy of it exists now: it must be retrieved (hours) before it can be read.
 */
export class NotRetrievedError extends PermanentError {
  constructor(
    message: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The provider asked us to slow down; retry later with backoff. */
export class ThrottledError extends SnapfleetError {
  readonly kind = 'throttled';
}

/** Where a corrupt object was found, as precisely as the caller knows it. */
export interface CorruptionSite {
  object?: string;
  blobId?: string;
  snapshotId?: string;
  volumeId?: string;
  /** Chunk number inside the volume (byte offset = chunk * chunkSize). */
  chunk?: number;
  byteOffset?: number;
}

/** Stored data failed authentication, decoding or its id check. Never retried: the bytes are bad. */
export class CorruptDataError extends SnapfleetError {
  readonly kind = 'corrupt';
  constructor(
    message: string,
    readonly site: CorruptionSite = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad input from a user or a caller; `field` names what was wrong. */
export class InvalidInputError extends SnapfleetError {
  readonly kind = 'invalid-input';
  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No key in the repository opens with the given password. */
export class WrongPasswordError extends SnapfleetError {
  readonly kind = 'wrong-password';
}

export function isSnapfleetError(err: unknown): err is SnapfleetError {
  return err instanceof SnapfleetError;
}
