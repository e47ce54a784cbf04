/**
 * The repository's `config` object: the one object every reader opens first. Plain JSON, so that
 * `snapfleet init` on an existing repository and humans can read it without a password.
 */
import { z } from 'zod';
import { CorruptDataError, PermanentError } from '../errors.js';
import { Encryption, FORMAT_VERSION, OLDEST_FORMAT_VERSION } from './codec-ids.js';
import { parseJsonObject } from './json-object.js';
import { OBJECT_LOCK_MODES, PACK_STORAGE_CLASSES } from './object-storage.js';

/** At most 100 years: a retention past that is a typo, and S3 refuses dates that far anyway. */
export const MAX_OBJECT_LOCK_DAYS = 36_500;

/** Chunk sizes: powers of two from 4 KiB (filesystem block, best dedup) to 4 MiB. */
export const MIN_CHUNK_SIZE = 4096;
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * 4 KiB chunks: files inside a disk image sit at 4 KiB-aligned offsets, so duplicates and small
 * rewrites are found at that granularity; frames (see frame-builder) restore compression ratio.
 */
export const DEFAULT_CHUNK_SIZE = 4096;

const configSchema = z.object({
  version: z.number().int(),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  encryption: z.union([z.literal(Encryption.None), z.literal(Encryption.Aes256Gcm)]),
  chunkSize: z.number().int(),
  /** Present only in unencrypted repositories: their id key cannot be wrapped by a password. */
  idKey: z.base64().optional(),
  /** The storage class packs are written in (S3); everything else stays in the store's default. */
  packStorageClass: z.enum(PACK_STORAGE_CLASSES).optional(),
  /**
   * S3 Object Lock: every pack, snapshot, key file and this config is written with a retention
   * of at least `days`, and prune extends the retention of what is still live (docs/format.md,
   * "Object Lock").
   */
  objectLock: z
    .object({ mode: z.enum(OBJECT_LOCK_MODES), days: z.number().int().min(1).max(MAX_OBJECT_LOCK_DAYS) })
    .strict()
    .optional(),
});
export type RepoConfig = z.infer<typeof configSchema>;

export function isValidChunkSize(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_CHUNK_SIZE && n <= MAX_CHUNK_SIZE && (n & (n - 1)) === 0;
}

export function encodeConfig(config: RepoConfig): Uint8Array {
  return Buffer.from(JSON.stringify(config, null, 2) + '\n');
}

export function parseConfig(bytes: Uint8Array): RepoConfig {
  const config = parseJsonObject(bytes, configSchema, 'repository config', { object: 'config' });
  if (config.version > FORMAT_VERSION) {
    throw new PermanentError(`repository format version ${config.version} is newer than this snapfleet supports (${FORMAT_VERSION})`);
  }
  if (config.version < OLDEST_FORMAT_VERSION) throw new CorruptDataError(`repository config has an invalid version ${config.version}`, { object: 'config' });
  if (!isValidChunkSize(config.chunkSize)) throw new CorruptDataError(`repository config has an invalid chunkSize ${config.chunkSize}`, { object: 'config' });
  if (config.encryption === Encryption.None && !config.idKey) throw new CorruptDataError('unencrypted repository config lacks its idKey', { object: 'config' });
  return config;
}
