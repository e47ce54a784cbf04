export interface NativeBinding {
  /**
   * The HMAC-SHA-256 of each `chunkSize` piece of `data` (the last may be shorter) under `key`,
   * 32 bytes each into `out`. With `zeroAsHole`, an all-zero piece gets 32 zero bytes instead.
   */
  hmacChunks(key: Uint8Array, data: Uint8Array, chunkSize: number, out: Uint8Array, zeroAsHole: boolean): void;
  /** The HMAC-SHA-256 of each (offset, length) pair in `spans` of `data`, 32 bytes each into `out`. */
  hmacSpans(key: Uint8Array, data: Uint8Array, spans: Uint32Array, out: Uint8Array): void;
  /**
   * Seals `plaintext` with AES-256-GCM into `out` at `at`, whose first 12 bytes already hold the
   * nonce: ciphertext then the 16-byte tag follow it. Returns the sealed length.
   */
  aesGcmSealInto(key: Uint8Array, plaintext: Uint8Array, out: Uint8Array, at: number): number;
  /**
   * Opens `sealed` (nonce | ciphertext | tag) into `out`, which may be the ciphertext itself.
   * False when the bytes are not authentic; `out` is then wiped.
   */
  aesGcmOpenInto(key: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean;
  /**
   * One lookup in a run file of the host index table: reads the bucket of the id at
   * `ids[offset..offset+32)` (fanout entries `bits`) from `fd` into `scratch`, then returns the
   * ordinal of the first equal record whose pack is below `packCount` and not flagged in
   * `excluded`; -1 when there is none (or the read came up short), -2 when the bucket does not
   * fit in `scratch`.
   */
  runFind(
    fd: number,
    fanout: Uint32Array,
    bits: number,
    recordsAt: number,
    packCount: number,
    excluded: Uint8Array,
    ids: Uint8Array,
    offset: number,
    scratch: Uint8Array,
  ): number;
  /**
   * runFind for the id at each of `offsets` in `ids`, on the thread pool: resolves once
   * `out[k]` holds the answer for `offsets[k]` (-1 for none). `fd` must stay open and the
   * arrays unchanged until it does.
   */
  runFindBatch(
    fd: number,
    fanout: Uint32Array,
    bits: number,
    recordsAt: number,
    packCount: number,
    excluded: Uint8Array,
    ids: Uint8Array,
    offsets: Uint32Array,
    out: Int32Array,
  ): Promise<void>;
  /**
   * posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED): drops the range's clean pages from
   * the page cache (dirty ones are written, not dropped). Returns 0 or the errno it failed with.
   */
  dropCache(fd: number, offset: number, length: number): number;
}

/** The compiled addon; undefined when it was not built or cannot load here. */
export const binding: NativeBinding | undefined;
/** Why the addon could not be loaded, when it could not. */
export const loadError: string | undefined;
