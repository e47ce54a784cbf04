/**
 * Authenticated encryption of one object or frame: AES-256-GCM with a fresh random 96-bit nonce.
 * Layout: nonce (12) | ciphertext | tag (16). Random nonces are safe here: far fewer than 2^32
 * messages are ever sealed under one key by the volumes a repository holds.
 */
import { createCipheriv, createDecipheriv, randomFillSync, type KeyObject } from 'node:crypto';
import { CorruptDataError } from '../errors.js';

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
  const nonce = out.subarray(at, at + NONCE_BYTES);
  randomFillSync(nonce);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = cipher.update(plaintext);
  out.set(body, at + NONCE_BYTES);
  const rest = cipher.final(); // GCM emits everything from update(); rest is empty
  out.set(rest, at + NONCE_BYTES + body.length);
  const tagAt = at + NONCE_BYTES + body.length + rest.length;
  out.set(cipher.getAuthTag(), tagAt);
  return tagAt + TAG_BYTES - at;
}

/** Throws CorruptDataError when the bytes were altered or sealed under another key. */
export function open(key: KeyObject, sealed: Uint8Array, what: string): Buffer {
  if (sealed.byteLength < SEAL_OVERHEAD) throw new CorruptDataError(`${what}: too short to be sealed (${sealed.byteLength} bytes)`);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE_BYTES));
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  try {
    const body = decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES));
    const rest = decipher.final();
    // GCM emits everything from update(); skip the copy a concat would make of every frame.
    return rest.length === 0 ? body : Buffer.concat([body, rest]);
  } catch (err) {
    throw new CorruptDataError(`${what}: authentication failed (altered bytes or wrong key)`, {}, { cause: err });
  }
}
