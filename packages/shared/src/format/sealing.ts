/**
 * Authenticated encryption of one object or frame: AES-256-GCM with a fresh random 96-bit nonce.
 * Layout: nonce (12) | ciphertext | tag (16). Random nonces are safe here: far fewer than 2^32
 * messages are ever sealed under one key by the volumes a repository holds.
 */
import { createCipheriv, createDecipheriv, randomFillSync, type KeyObject } from 'node:crypto';
import { CorruptDataError } from '../errors.js';
import { native } from './native.js';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

export function seal(key: KeyObject, plaintext: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plaintext.byteLength + SEAL_OVERHEAD);
  sealInto(key, plaintext, out, 0);
  return out;
}

/**
 * Seals `plaintext` into `out` at `at` (which must have SEAL_OVERHEAD bytes more than the
 * plaintext) and returns the sealed length: frames are sealed straight into the memory they are
 * stored from, without a concatenated copy.
 */
export function sealInto(key: KeyObject, plaintext: Uint8Array, out: Uint8Array, at: number): number {
  randomFillSync(out.subarray(at, at + NONCE_BYTES));
  return sealer(key, plaintext, out, at);
}

/** Seals under the nonce already at out[at, at + 12); the two give the same bytes. */
export type Sealer = (key: KeyObject, plaintext: Uint8Array, out: Uint8Array, at: number) => number;

/** node:crypto returns the ciphertext in a new buffer, copied here into `out`. */
export const nodeCryptoSealer: Sealer = (key, plaintext, out, at) => {
  const cipher = createCipheriv('aes-256-gcm', key, out.subarray(at, at + NONCE_BYTES));
  const body = cipher.update(plaintext);
  out.set(body, at + NONCE_BYTES);
  const rest = cipher.final(); // GCM emits everything from update(); rest is empty
  out.set(rest, at + NONCE_BYTES + body.length);
  const tagAt = at + NONCE_BYTES + body.length + rest.length;
  out.set(cipher.getAuthTag(), tagAt);
  return tagAt + TAG_BYTES - at;
};

/** The addon writes the ciphertext in place, leaving no garbage behind in a codec thread. */
export const nativeSealer: Sealer | undefined = native && ((key, plaintext, out, at) => native!.aesGcmSealInto(rawKey(key), plaintext, out, at));

const sealer: Sealer = nativeSealer ?? nodeCryptoSealer;

/** Each key's bytes, exported once: the addon takes bytes, not KeyObjects. */
const rawKeys = new WeakMap<KeyObject, Uint8Array>();
function rawKey(key: KeyObject): Uint8Array {
  let raw = rawKeys.get(key);
  if (!raw) rawKeys.set(key, (raw = key.export()));
  return raw;
}

/** Throws CorruptDataError when the bytes were altered or sealed under another key. */
export function open(key: KeyObject, sealed: Uint8Array, what: string): Buffer {
  checkSealedLength(sealed, what);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE_BYTES));
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  try {
    const body = decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES));
    const rest = decipher.final();
    // GCM emits everything from update(); skip the copy a concat would make of every frame.
    return rest.length === 0 ? body : Buffer.concat([body, rest]);
  } catch (err) {
    throw authenticationFailed(what, err);
  }
}

/**
 * Opens `sealed` into `dst` (exactly the plaintext's length), straight from the ciphertext where
 * the addon is loaded. Throws as open does.
 */
export function openInto(key: KeyObject, sealed: Uint8Array, dst: Uint8Array, what: string): void {
  checkSealedLength(sealed, what);
  const length = sealed.byteLength - SEAL_OVERHEAD;
  if (dst.byteLength !== length) throw new CorruptDataError(`${what}: holds ${length} bytes, expected ${dst.byteLength}`);
  if (!native) dst.set(open(key, sealed, what));
  else if (!native.aesGcmOpenInto(rawKey(key), sealed, dst)) throw authenticationFailed(what);
}

/**
 * Opens `sealed` in place: the plaintext overwrites the ciphertext and the result is a view into
 * `sealed`. For bytes nothing reads again (a restore's fetched runs); with the addon it spares a
 * codec thread a new buffer per frame. Throws as open does.
 */
export function openInPlace(key: KeyObject, sealed: Uint8Array, what: string): Uint8Array {
  checkSealedLength(sealed, what);
  const body = sealed.subarray(NONCE_BYTES, sealed.byteLength - TAG_BYTES);
  openInto(key, sealed, body, what);
  return body;
}

function checkSealedLength(sealed: Uint8Array, what: string): void {
  if (sealed.byteLength < SEAL_OVERHEAD) throw new CorruptDataError(`${what}: too short to be sealed (${sealed.byteLength} bytes)`);
}

function authenticationFailed(what: string, cause?: unknown): CorruptDataError {
  return new CorruptDataError(`${what}: authentication failed (altered bytes or wrong key)`, {}, cause === undefined ? undefined : { cause });
}
