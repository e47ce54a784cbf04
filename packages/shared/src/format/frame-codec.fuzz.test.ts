/**
 * Fuzz properties of frame decoding (format/frame-codec.ts and the codec pool's decode task that
 * wraps it): random and damaged stored frames, sealed and not, with the raw length and compression
 * a pack header claims. A frame decodes to exactly its claimed length or fails as corrupt data;
 * a sealed frame never decodes to other bytes; the pool task reports failures, never throws.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../errors.js';
import { Compression, type CompressionId } from './codec-ids.js';
import { blobId, ID_BYTES } from './ids.js';
import { MAX_FRAME_RAW_LENGTH } from './pack-header.js';
import { decode } from '../parallel/codec-tasks.js';
import { expectDecoded, expectSmallAllocation, fuzzSettings, mutationsOf } from '../testing/decoder-fuzz.js';
import { decodeFrame, decodeFrameInto, encodeFrame } from './frame-codec.js';

const settings = fuzzSettings(process.env);
const encRaw = randomBytes(32);
const idRaw = randomBytes(32);
const enc = createSecretKey(encRaw);
const idKey = createSecretKey(idRaw);
const corrupt = { errors: [CorruptDataError], names: 'frame' };

/** Plaintexts like frames hold: compressible text (zstd) and random bytes (stored raw). */
const plainArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 400 }).map((s) => Buffer.from(s.repeat(8))),
  fc.uint8Array({ minLength: 1, maxLength: 600 }).map((b) => Buffer.from(b)),
);
const compressionArb = fc.constantFrom<CompressionId>(Compression.None, Compression.Zstd);
/** What a damaged header may claim: near the truth, or far from it up to what a header may hold. */
const rawLengthArb = (truth: number) => fc.oneof(fc.constant(truth), fc.integer({ min: 0, max: truth + 64 }), fc.constant(MAX_FRAME_RAW_LENGTH));

describe('frame fuzz', () => {
  it('random stored bytes decode to the claimed length or fail as corrupt data', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        compressionArb,
        fc.integer({ min: 0, max: 400 }),
        fc.boolean(),
        (stored, compression, rawLength, sealed) => {
          const out = expectDecoded(() => decodeFrame(stored, compression, rawLength, sealed ? enc : undefined, 'frame'), corrupt);
          if (out.value) expect(out.value.byteLength).toBe(rawLength);
          const dst = Buffer.alloc(rawLength);
          expectDecoded(() => decodeFrameInto(Buffer.from(stored), compression, sealed ? enc : undefined, dst, 'frame'), corrupt);
        },
      ),
      settings,
    );
  });

  it('damaged frames decode to the claimed length or fail; sealed ones only to their plaintext', () => {
    const arb = fc.tuple(plainArb, fc.boolean(), fc.integer({ min: 1, max: 6 })).chain(([plain, sealed, level]) => {
      const frame = encodeFrame(plain, level, sealed ? enc : undefined);
      return fc.tuple(fc.constant(plain), fc.constant(sealed), fc.constant(frame.compression), mutationsOf(frame.stored), rawLengthArb(plain.byteLength));
    });
    fc.assert(
      fc.property(arb, ([plain, sealed, compression, stored, rawLength]) => {
        const key = sealed ? enc : undefined;
        const out = expectDecoded(() => decodeFrame(Buffer.from(stored), compression, rawLength, key, 'frame'), corrupt);
        if (out.value) expect(out.value.byteLength).toBe(rawLength);
        if (out.value && sealed) expect(out.value.equals(plain)).toBe(true);
        const dst = Buffer.alloc(rawLength);
        const into = expectDecoded(() => decodeFrameInto(Buffer.from(stored), compression, key, dst, 'frame'), corrupt);
        if (!into.error && sealed) expect(dst.equals(plain)).toBe(true);
      }),
      settings,
    );
  });

  it('a frame of a few bytes claiming the most a header allows costs no more than that claim', () => {
    const frame = encodeFrame(Buffer.alloc(1000, 'x'), 3, enc);
    expectSmallAllocation(
      () => {
        expectDecoded(() => decodeFrame(Buffer.from(frame.stored), frame.compression, MAX_FRAME_RAW_LENGTH, enc, 'frame'), { ...corrupt, maxMs: 500 });
      },
      MAX_FRAME_RAW_LENGTH + 1024 * 1024,
    );
  });

  it('the codec pool task reports damaged frames and spans, never throws', () => {
    const arb = fc.tuple(fc.array(plainArb, { minLength: 1, maxLength: 4 }), fc.boolean()).chain(([blobs, sealed]) => {
      const plain = Buffer.concat(blobs);
      const frame = encodeFrame(plain, 1, sealed ? enc : undefined);
      const spans: number[] = [];
      let at = 0;
      for (const b of blobs) {
        spans.push(at, b.byteLength);
        at += b.byteLength;
      }
      const ids = Buffer.concat(blobs.map((b) => blobId(idKey, b)));
      const damagedSpans = fc.array(fc.nat({ max: plain.byteLength + 100 }), { minLength: spans.length, maxLength: spans.length });
      return fc.record({
        sealed: fc.constant(sealed),
        compression: fc.constant(frame.compression),
        stored: fc.oneof(fc.constant(frame.stored), mutationsOf(frame.stored)),
        rawLength: rawLengthArb(plain.byteLength),
        spans: fc.oneof(fc.constant(spans), damagedSpans),
        ids: fc.constant(ids),
      });
    });
    fc.assert(
      fc.property(arb, (r) => {
        const started = performance.now();
        const result = decode({
          stored: Buffer.from(r.stored),
          compression: r.compression,
          rawLength: r.rawLength,
          encKey: r.sealed ? encRaw : undefined,
          idKey: idRaw,
          spans: Uint32Array.from(r.spans),
          ids: r.ids,
        });
        expect(performance.now() - started).toBeLessThan(2000);
        if (result.error) expect(result.error).toMatch(/^frame/);
        else expect(result.raw!.byteLength).toBe(r.rawLength);
        // A span the pool calls good holds exactly the bytes of its id.
        for (let i = 0; !result.error && i < r.spans.length / 2; i++) {
          if (result.badSpans.includes(i)) continue;
          const blob = result.raw!.subarray(r.spans[2 * i]!, r.spans[2 * i]! + r.spans[2 * i + 1]!);
          expect(blobId(idKey, blob).equals(r.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES))).toBe(true);
        }
      }),
      settings,
    );
  });
});
