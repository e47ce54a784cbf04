/**
 * One cached object on disk, and where it lives in the cache folder.
 *
 * A cache file is `"SFC1" | SHA-256(key | 0x00 | bytes) | bytes`, the bytes exactly as the store
 * holds them (encrypted envelopes in an encrypted repository). The checksum catches what a crash,
 * a full disk or a stray write leaves behind, and, since it covers the key, a file under another
 * object's name. Files are renamed into place whole, so a damaged one is rare; it is never
 * served.
 *
 * File names: a key shaped like the repository's own (`index/<64 hex>`) keeps its shape, one
 * folder per prefix. Any other key (foreign objects turn up in listings) is hex-encoded under
 * `_hex/`, a folder name no such key can have; keys too long for a file name are not cached.
 */
import { createHash } from 'node:crypto';
import type { BlobData } from '@snapfleet/shared';

const MAGIC = new TextEncoder().encode('SFC1');
const DIGEST_BYTES = 32;
export const CACHE_HEADER_BYTES = MAGIC.length + DIGEST_BYTES;

/** Keys stored as they are: one lowercase folder, a 64-hex object name. */
const PLAIN_KEY = /^([a-z]+)\/([0-9a-f]{64})$/;
const HEX_FOLDER = '_hex';
/**
 * Longest key (UTF-8 bytes) cached under `_hex/`: twice this in hex digits, plus a temp file's
 * decoration (`.tmp-`, a dot, 16 random hex digits), stays within the 255-byte file name limit of
 * Linux file systems.
 */
const MAX_HEX_KEY_BYTES = 116;
/** Writers' temp files start with this; no cache file name does. */
export const TEMP_PREFIX = '.tmp-';

function digest(key: string, parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256').update(key).update(Uint8Array.of(0));
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** The parts of the cache file for `data` under `key` (the data parts are not copied). */
export function encodeCacheFile(key: string, data: BlobData): Uint8Array[] {
  const parts = data instanceof Uint8Array ? [data] : [...data];
  const header = new Uint8Array(CACHE_HEADER_BYTES);
  header.set(MAGIC, 0);
  header.set(digest(key, parts), MAGIC.length);
  return [header, ...parts];
}

/** The object's bytes (a view of `file`), or undefined when the file is damaged. */
export function decodeCacheFile(key: string, file: Uint8Array): Uint8Array | undefined {
  if (file.byteLength < CACHE_HEADER_BYTES) return undefined;
  for (let i = 0; i < MAGIC.length; i++) if (file[i] !== MAGIC[i]) return undefined;
  const bytes = new Uint8Array(file.buffer, file.byteOffset + CACHE_HEADER_BYTES, file.byteLength - CACHE_HEADER_BYTES);
  const want = file.subarray(MAGIC.length, CACHE_HEADER_BYTES);
  const got = digest(key, [bytes]);
  for (let i = 0; i < DIGEST_BYTES; i++) if (got[i] !== want[i]) return undefined;
  return bytes;
}

/** The cache file of `key`, relative to the cache folder (`/`-separated), or undefined. */
export function cacheFilePath(key: string): string | undefined {
  if (PLAIN_KEY.test(key)) return key;
  const utf8 = Buffer.from(key, 'utf8');
  if (utf8.byteLength === 0 || utf8.byteLength > MAX_HEX_KEY_BYTES) return undefined;
  return `${HEX_FOLDER}/${utf8.toString('hex')}`;
}

/** The key whose cache file is `folder/name`, or undefined for anything else (temp files). */
export function keyOfCacheFile(folder: string, name: string): string | undefined {
  const key = folder === HEX_FOLDER ? hexKey(name) : `${folder}/${name}`;
  return key !== undefined && cacheFilePath(key) === `${folder}/${name}` ? key : undefined;
}

function hexKey(name: string): string | undefined {
  if (!/^(?:[0-9a-f]{2})+$/.test(name)) return undefined;
  const key = Buffer.from(name, 'hex').toString('utf8');
  // Invalid UTF-8 decodes to replacement characters and does not encode back to `name`.
  return Buffer.from(key, 'utf8').toString('hex') === name ? key : undefined;
}
