/**
 * Fuzz properties of the envelope (format/envelope.ts) and the seal inside it: random and damaged
 * envelopes, sealed and not, and zstd bodies that claim more than they hold, must fail as corrupt
 * data naming the object, promptly and without memory in proportion to the claim.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptDataError, PermanentError } from '../errors.js';
import { expectDecoded, expectSmallAllocation, fuzzSettings, mutationsOf } from '../testing/decoder-fuzz.js';
import { zstdCompress, zstdDecompress } from './zstd.js';
import { Compression, ENVELOPE_VERSION, Encryption } from './codec-ids.js';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import { open, seal } from './sealing.js';

const settings = fuzzSettings(process.env);
const enc = createSecretKey(randomBytes(32));
const what = 'index/fuzzed';
const expected = { errors: [CorruptDataError, PermanentError], names: what };

/** Payloads like the ones envelopes carry: random ids (stored raw) and repetitive JSON (zstd). */
const payloadArb = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.array(fc.string({ maxLength: 12 }), { maxLength: 20 }).map((tags) => Buffer.from(JSON.stringify({ tags, again: tags }))),
);

/** A complete 20-byte zstd frame whose header claims `contentSize` bytes; it holds 16. */
function zstdClaiming(contentSize: bigint): Buffer {
  // Magic, a frame header descriptor (8-byte content size field, single segment: no window
  // descriptor), the claimed size, then one last block of type RLE: 16 times the byte 'A'.
  const header = Buffer.alloc(4 + 1 + 8);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0b1110_0000;
  header.writeBigUInt64LE(contentSize, 5);
  const lastRleBlockOf16 = (16 << 3) | (1 << 1) | 1;
  return Buffer.concat([header, Buffer.from([lastRleBlockOf16, 0, 0, 0x41])]);
}

describe('envelope fuzz', () => {
  it('random bytes decode or fail as corrupt data naming the object', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, sealed) => {
        expectDecoded(() => decodeEnvelope(bytes, sealed ? enc : undefined, what), expected);
      }),
      settings,
    );
  });

  it('damaged envelopes fail as corrupt data; sealed ones never decode to other bytes', () => {
    fc.assert(
      fc.property(
        payloadArb.chain((payload) =>
          fc
            .tuple(fc.constant(payload), fc.boolean())
            .chain(([p, sealed]) => fc.tuple(fc.constant(p), fc.constant(sealed), mutationsOf(encodeEnvelope(p, sealed ? enc : undefined)))),
        ),
        ([payload, sealed, damaged]) => {
          const outcome = expectDecoded(() => decodeEnvelope(damaged, sealed ? enc : undefined, what), expected);
          // Authentication covers the body; only header bytes that do not change its meaning
          // (an older version number) may differ and still decode.
          if (sealed && outcome.value) expect(outcome.value.equals(payload)).toBe(true);
        },
      ),
      settings,
    );
  });

  it('the plaintext under a valid seal may be anything: its decompression fails as corrupt data', () => {
    fc.assert(
      fc.property(
        payloadArb.chain((p) =>
          fc.oneof(
            mutationsOf(zstdCompress(p, 1)),
            fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
          ),
        ),
        (body) => {
          const envelope = Buffer.concat([Buffer.from([ENVELOPE_VERSION, Compression.Zstd, Encryption.Aes256Gcm]), seal(enc, body)]);
          expectDecoded(() => decodeEnvelope(envelope, enc, what), expected);
        },
      ),
      settings,
    );
  });

  it('a seal opens only to what was sealed', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }).chain((p) => fc.tuple(fc.constant(Buffer.from(p)), mutationsOf(seal(enc, p)))),
        ([plain, damaged]) => {
          const outcome = expectDecoded(() => open(enc, damaged, what), { errors: [CorruptDataError], names: what });
          if (outcome.value) expect(outcome.value.equals(plain)).toBe(true);
        },
      ),
      settings,
    );
  });

  it('a newer envelope version is refused as unsupported, not as damage', () => {
    const bytes = encodeEnvelope(Buffer.from('{}'), undefined);
    bytes[0] = ENVELOPE_VERSION + 1;
    expect(() => decodeEnvelope(bytes, undefined, what)).toThrow(PermanentError);
  });

  it.each([0x10_0000_0000n, 0xffff_ffff_ffff_ffffn, 0x7fff_ffffn, 1n << 31n])('a zstd body claiming %s bytes fails without allocating them', (claim) => {
    for (const sealed of [false, true]) {
      const body = zstdClaiming(claim);
      const envelope = Buffer.concat([
        Buffer.from([ENVELOPE_VERSION, Compression.Zstd, sealed ? Encryption.Aes256Gcm : Encryption.None]),
        sealed ? seal(enc, body) : body,
      ]);
      expectSmallAllocation(() => {
        expectDecoded(() => decodeEnvelope(envelope, sealed ? enc : undefined, what), { errors: [CorruptDataError], names: what, maxMs: 500 });
      });
      expectSmallAllocation(() => {
        expectDecoded(() => zstdDecompress(body, 4096, 'frame'), { errors: [CorruptDataError], names: 'frame', maxMs: 500 });
      });
    }
  });

  it('a zstd body that really decompresses past the limit fails once it gets there', () => {
    const bomb = zstdCompress(Buffer.alloc(4_000_000, 'a'), 19);
    expect(bomb.byteLength).toBeLessThan(1000);
    expectSmallAllocation(() => {
      expectDecoded(() => zstdDecompress(bomb, undefined, what, 1_000_000), {
        errors: [CorruptDataError],
        names: `${what}: zstd data decompresses to more than 1000000 bytes`,
      });
    }, 4_000_000);
  });

  it('zstd bodies still decode whatever their size', () => {
    for (const size of [0, 1, 1000, 200_000, 3_000_000]) {
      const payload = Buffer.alloc(size, 'snapfleet ');
      expect(decodeEnvelope(encodeEnvelope(payload, enc), enc, what).equals(payload)).toBe(true);
      expect(zstdDecompress(zstdCompress(payload, 1), undefined, what).equals(payload)).toBe(true);
    }
  });
});
