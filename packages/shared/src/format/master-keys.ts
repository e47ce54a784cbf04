/**
 * The key files that wrap the repository's master keys (master-key-material.ts) under a password.
 * Each key file (keys/<id>) holds the pair sealed under a key derived from one password with
 * scrypt, so a password can be added or changed without re-encrypting any data.
 */
import { createHash, createSecretKey, randomBytes, scrypt as scryptCb, type KeyObject, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';
import { CorruptDataError, WrongPasswordError } from '../errors.js';
import { open, seal } from './sealing.js';
import { KEY_BYTES, masterKeysFrom, type MasterKeys } from './master-key-material.js';

export { generateMasterKeys, KEY_BYTES, masterKeysFrom, type MasterKeys } from './master-key-material.js';

/**
 * The key file's own version, independent of the repository format: key files have not changed
 * since format 1, and a format-1 repository's key files must keep opening.
 */
export const KEY_FILE_VERSION = 1;

/**
 * scrypt cost: N=2^15, r=8 takes ~100 ms and 32 MiB here, OWASP's minimum for interactive
 * logins. Stored per key file so it can be raised later without breaking old files.
 */
const DEFAULT_KDF = { n: 1 << 15, r: 8, p: 1 };
/** Salts are 32 random bytes; a shorter one is a damaged file. */
const MIN_SALT_BYTES = 16;
/**
 * The most a key file may ask scrypt for: 128·n·r bytes of memory, and p passes over it. 1 GiB
 * and 16 passes are 32 and 16 times the defaults, room to raise them; past that a file (one
 * written before `check`, so its damage goes unseen) would make opening allocate gigabytes or
 * spin for hours before any password is tried.
 */
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;
const MAX_SCRYPT_P = 16;
/** scrypt takes only powers of two of at least 2 for N. */
const isScryptN = (n: number) => n >= 2 && (n & (n - 1)) === 0;

const keyFileSchema = z.object({
  version: z.literal(KEY_FILE_VERSION),
  kdf: z.literal('scrypt'),
  n: z
    .number()
    .int()
    .max(MAX_SCRYPT_MEMORY / 128)
    .refine(isScryptN, { error: 'must be a power of two of at least 2' }),
  r: z.number().int().positive(),
  p: z.number().int().positive().max(MAX_SCRYPT_P),
  salt: z.base64(),
  data: z.base64(),
  /** Who added the key and when (`snapfleet key list`); absent from files written before. */
  created: z.iso.datetime().optional(),
  hostname: z.string().max(255).optional(),
  username: z.string().max(255).optional(),
  /**
   * SHA-256 (base64) of the fields that derive and open the key (keyFileChecksum): a flipped
   * byte in the salt or the KDF parameters would otherwise read as a wrong password, or ask
   * scrypt for absurd memory. Absent from files written before; not a defence against tampering
   * (the sealed data is), only against damage.
   */
  check: z.base64().optional(),
});
export type KeyFile = z.infer<typeof keyFileSchema>;

function deriveKey(password: string, salt: Buffer, params: { n: number; r: number; p: number }): Promise<KeyObject> {
  const options: ScryptOptions = { N: params.n, r: params.r, p: params.p, maxmem: 256 * params.n * params.r };
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(createSecretKey(key)))),
  );
}

/** What a key file says of its origin, in the clear: never anything secret. */
export interface KeyFileOrigin {
  created?: string;
  hostname?: string;
  username?: string;
}

export async function wrapMasterKeys(keys: MasterKeys, password: string, origin: KeyFileOrigin = {}, kdf = DEFAULT_KDF): Promise<KeyFile> {
  if (!keys.encRaw) throw new Error('an unencrypted repository has no key files');
  const salt = randomBytes(32);
  const wrappingKey = await deriveKey(password, salt, kdf);
  const data = seal(wrappingKey, Buffer.concat([keys.encRaw, keys.idRaw]));
  const file: KeyFile = { version: KEY_FILE_VERSION, kdf: 'scrypt', ...kdf, salt: salt.toString('base64'), data: data.toString('base64'), ...origin };
  return { ...file, check: keyFileChecksum(file) };
}

/** What `check` covers: everything that derives the wrapping key and opens the data. */
function keyFileChecksum(f: KeyFile): string {
  return createHash('sha256')
    .update(JSON.stringify([f.version, f.kdf, f.n, f.r, f.p, f.salt, f.data]))
    .digest('base64');
}

export function parseKeyFile(bytes: Uint8Array, key: string): KeyFile {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new CorruptDataError(`key file ${key} is not JSON`, { object: key }, { cause: err });
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.') || '(the whole file)';
    throw new CorruptDataError(`key file ${key} is damaged: field ${field} is missing or not valid`, { object: key });
  }
  const file = parsed.data;
  if (128 * file.n * file.r > MAX_SCRYPT_MEMORY)
    throw new CorruptDataError(`key file ${key} is damaged: its KDF parameters ask for more than ${MAX_SCRYPT_MEMORY} bytes`, { object: key });
  if (file.check !== undefined && file.check !== keyFileChecksum(file)) {
    throw new CorruptDataError(`key file ${key} is damaged: its checksum does not match its salt, KDF parameters or data`, { object: key });
  }
  if (Buffer.from(file.salt, 'base64').length < MIN_SALT_BYTES)
    throw new CorruptDataError(`key file ${key} is damaged: its salt is too short`, { object: key });
  return file;
}

/** Unwraps the master keys, or throws WrongPasswordError. */
export async function unwrapMasterKeys(file: KeyFile, password: string): Promise<MasterKeys> {
  const wrappingKey = await deriveKey(password, Buffer.from(file.salt, 'base64'), file);
  let plain: Buffer;
  try {
    plain = open(wrappingKey, Buffer.from(file.data, 'base64'), 'key file');
  } catch {
    throw new WrongPasswordError('wrong password: no key in the repository opens with it');
  }
  if (plain.length !== 2 * KEY_BYTES) throw new CorruptDataError('key file holds a key of the wrong length');
  return masterKeysFrom(plain.subarray(0, KEY_BYTES), plain.subarray(KEY_BYTES));
}
