import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../errors.js';
import { native } from './native.js';
import { nativeSealer, nodeCryptoSealer, NONCE_BYTES, open, openInPlace, seal, SEAL_OVERHEAD, type Sealer } from './sealing.js';

const key = createSecretKey(randomBytes(32));
const raw = new Uint8Array(key.export());

/** Seals into shared memory at an offset, as codec threads do; the nonce is set first. */
function sealWith(sealer: Sealer, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(plaintext.length + SEAL_OVERHEAD + 40), 3, plaintext.length + SEAL_OVERHEAD + 20);
  out.set(randomBytes(NONCE_BYTES), 10);
  const length = sealer(key, plaintext, out, 10);
  expect(length).toBe(plaintext.length + SEAL_OVERHEAD);
  return out.slice(10, 10 + length);
}

describe('AES-256-GCM sealing', () => {
  const plaintext = randomBytes(300_000);

  it('native and node:crypto sealers give the same bytes under the same nonce', () => {
    const out1 = new Uint8Array(plaintext.length + SEAL_OVERHEAD);
    const out2 = new Uint8Array(plaintext.length + SEAL_OVERHEAD);
    const nonce = randomBytes(NONCE_BYTES);
    out1.set(nonce);
    out2.set(nonce);
    nativeSealer!(key, plaintext, out1, 0);
    nodeCryptoSealer(key, plaintext, out2, 0);
    expect(Buffer.compare(out1, out2)).toBe(0);
  });

  it.each([
    ['native', nativeSealer],
    ['node:crypto', nodeCryptoSealer],
  ] as [string, Sealer | undefined][])('%s sealing opens with open and openInPlace, an empty plaintext too', (_name, sealer) => {
    for (const p of [plaintext, new Uint8Array(0)]) {
      expect(Buffer.compare(open(key, sealWith(sealer!, p), 'frame'), p)).toBe(0);
      expect(Buffer.compare(openInPlace(key, sealWith(sealer!, p), 'frame'), p)).toBe(0);
    }
  });

  it('openInPlace overwrites the ciphertext and returns a view of it', () => {
    const sealed = seal(key, plaintext);
    const body = openInPlace(key, sealed, 'frame');
    expect(body.buffer).toBe(sealed.buffer);
    expect(body.byteOffset).toBe(sealed.byteOffset + NONCE_BYTES);
    expect(Buffer.compare(body, plaintext)).toBe(0);
  });

  it.each([0, NONCE_BYTES + 5, plaintext.length + NONCE_BYTES + 3])('openInPlace refuses a byte flipped at %d and leaves no plaintext behind', (at) => {
    const sealed = seal(key, plaintext);
    sealed[at]! ^= 1;
    expect(() => openInPlace(key, sealed, 'frame')).toThrow(CorruptDataError);
    expect(() => openInPlace(key, sealed, 'frame')).toThrow(/frame: authentication failed/);
    if (native && at >= NONCE_BYTES && at < NONCE_BYTES + plaintext.length) {
      // The in-place attempt wiped what it had decrypted rather than leave unauthenticated bytes.
      expect(sealed.subarray(NONCE_BYTES, NONCE_BYTES + plaintext.length).every((b) => b === 0)).toBe(true);
    }
  });

  it('openInPlace refuses another key and bytes too short to be sealed', () => {
    const other = createSecretKey(randomBytes(32));
    expect(() => openInPlace(other, seal(key, plaintext), 'pack header')).toThrow(/pack header: authentication failed/);
    expect(() => openInPlace(key, new Uint8Array(SEAL_OVERHEAD - 1), 'frame')).toThrow(/too short to be sealed/);
  });
});

describe('the native AES-GCM functions', () => {
  it('refuse a wrong key length, too little room and overlapping memory, naming the argument', () => {
    const plaintext = randomBytes(100);
    const out = new Uint8Array(200);
    expect(() => native!.aesGcmSealInto(raw.subarray(0, 16), plaintext, out, 0)).toThrow(/key must be a 32-byte/);
    expect(() => native!.aesGcmSealInto(raw, plaintext, out, 80)).toThrow(/out has no room/);
    expect(() => native!.aesGcmSealInto(raw, out.subarray(20, 120), out, 0)).toThrow(/plaintext overlaps/);
    const sealed = seal(key, plaintext);
    expect(() => native!.aesGcmOpenInto(raw, sealed, new Uint8Array(99))).toThrow(/out is too small/);
    expect(() => native!.aesGcmOpenInto(raw, sealed, sealed.subarray(5))).toThrow(/out overlaps the sealed bytes/);
    expect(() => native!.aesGcmOpenInto(raw, new Uint8Array(27), out)).toThrow(/at least 28 bytes/);
    const loose = native as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => loose.aesGcmSealInto!(raw, plaintext)).toThrow(/aesGcmSealInto takes \(key, plaintext, out, at\)/);
    expect(() => loose.aesGcmOpenInto!(raw)).toThrow(/aesGcmOpenInto takes/);
  });
});
