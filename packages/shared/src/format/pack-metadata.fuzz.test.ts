/**
 * Fuzz properties of the binary payloads inside envelopes: pack headers, index objects and pack
 * lists (layout lists carry a pack list). These are what an envelope decodes to, so they are fuzzed
 * directly: a damaged object that still authenticates (written damaged, or by a hostile holder of
 * the key) reaches them. Counts and lengths set huge must fail promptly, without memory in
 * proportion to the claim.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../errors.js';
import { expectDecoded, expectSmallAllocation, fuzzSettings, HUGE_U32, mutationsOf, randomBytesAfter } from '../testing/decoder-fuzz.js';
import { BlobType, Compression } from './codec-ids.js';
import { ID_BYTES } from './ids.js';
import { decodeIndexPayload, encodeIndexPayload, type IndexedPack } from './index-object.js';
import { decodePackHeader, encodePackHeader, MAX_FRAME_RAW_LENGTH, type FrameEntry } from './pack-header.js';
import { decodePackList, encodePackList, type ListedPack } from './pack-list.js';

const settings = fuzzSettings(process.env);
const what = 'data/ab/fuzzed';
const corrupt = { errors: [CorruptDataError], names: what };

const frameArb: fc.Arbitrary<FrameEntry> = fc
  .record({
    type: fc.constantFrom(BlobType.Data, BlobType.Map),
    compression: fc.constantFrom(Compression.None, Compression.Zstd),
    storedLength: fc.integer({ min: 1, max: 300_000 }),
    lengths: fc.array(fc.integer({ min: 1, max: 8192 }), { minLength: 1, maxLength: 6 }),
  })
  .map(({ lengths, ...f }) => ({
    ...f,
    rawLength: lengths.reduce((a, b) => a + b, 0),
    ids: Uint8Array.from({ length: lengths.length * ID_BYTES }, (_, i) => (i * 7 + lengths[0]!) & 0xff),
    lengths: Uint32Array.from(lengths),
  }));
const framesArb = fc.array(frameArb, { maxLength: 4 });
const hexIdArb = fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES }).map((b) => Buffer.from(b).toString('hex'));
const packLengthArb = fc.integer({ min: 1, max: 2 ** 40 });
const indexedArb: fc.Arbitrary<IndexedPack[]> = fc.array(fc.record({ packId: hexIdArb, packLength: packLengthArb, frames: framesArb }), { maxLength: 3 });
const listedArb: fc.Arbitrary<ListedPack[]> = fc.array(fc.record({ packId: hexIdArb, packLength: packLengthArb }), { maxLength: 6 });

/** Every frame a decoder accepts is one a reader can act on without allocating absurd memory. */
function expectSaneFrames(frames: FrameEntry[]): void {
  for (const f of frames) {
    expect(f.rawLength).toBeLessThanOrEqual(MAX_FRAME_RAW_LENGTH);
    expect(f.lengths.reduce((a, b) => a + b, 0)).toBe(f.rawLength);
    expect(f.ids.byteLength).toBe(f.lengths.length * ID_BYTES);
  }
}

describe('pack header fuzz', () => {
  it('random bytes decode or fail as corrupt data naming the pack', () => {
    fc.assert(
      fc.property(randomBytesAfter(Buffer.from('SFPH')), (bytes) => {
        const out = expectDecoded(() => decodePackHeader(bytes, what), corrupt);
        if (out.value) expectSaneFrames(out.value);
      }),
      settings,
    );
  });

  it('damaged headers decode to sane frames or fail as corrupt data', () => {
    fc.assert(
      fc.property(
        framesArb.chain((frames) => mutationsOf(encodePackHeader(frames))),
        (bytes) => {
          const out = expectDecoded(() => decodePackHeader(bytes, what), corrupt);
          if (out.value) expectSaneFrames(out.value);
        },
      ),
      settings,
    );
  });

  it.each(HUGE_U32)('a frame or blob count of %d fails promptly without allocating for it', (huge) => {
    const valid = encodePackHeader([
      { type: BlobType.Data, compression: Compression.None, storedLength: 10, rawLength: 10, ids: new Uint8Array(ID_BYTES), lengths: Uint32Array.of(10) },
    ]);
    for (const at of [4, 4 + 4 + 2 + 4 + 4]) {
      const bytes = Buffer.from(valid);
      bytes.writeUInt32LE(huge, at);
      expectSmallAllocation(() => expectDecoded(() => decodePackHeader(bytes, what), { ...corrupt, maxMs: 200 }));
    }
  });

  it('a frame claiming more plaintext than any writer puts in one is refused', () => {
    const rawLength = MAX_FRAME_RAW_LENGTH + 1;
    const bytes = encodePackHeader([
      { type: BlobType.Data, compression: Compression.Zstd, storedLength: 100, rawLength, ids: new Uint8Array(ID_BYTES), lengths: Uint32Array.of(rawLength) },
    ]);
    expect(() => decodePackHeader(bytes, what)).toThrow(/frame 0 claims/);
  });
});

describe('index object fuzz', () => {
  it('random bytes decode or fail as corrupt data naming the object', () => {
    fc.assert(
      fc.property(randomBytesAfter(Buffer.from('SFIX')), (bytes) => {
        const out = expectDecoded(() => decodeIndexPayload(bytes, what), corrupt);
        for (const p of out.value ?? []) expectSaneFrames(p.frames);
      }),
      settings,
    );
  });

  it('damaged index objects decode to sane entries or fail as corrupt data', () => {
    fc.assert(
      fc.property(
        indexedArb.chain((packs) => mutationsOf(encodeIndexPayload(packs))),
        (bytes) => {
          const out = expectDecoded(() => decodeIndexPayload(bytes, what), corrupt);
          for (const p of out.value ?? []) {
            expect(Number.isSafeInteger(p.packLength)).toBe(true);
            expect(p.packId).toMatch(/^[0-9a-f]{64}$/);
            expectSaneFrames(p.frames);
          }
        },
      ),
      settings,
    );
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(indexedArb, (packs) => {
        expect(decodeIndexPayload(encodeIndexPayload(packs), what)).toEqual(packs);
      }),
      settings,
    );
  });

  it.each(HUGE_U32)('a pack count or header length of %d fails promptly without allocating for it', (huge) => {
    const valid = encodeIndexPayload([{ packId: 'ab'.repeat(32), packLength: 100, frames: [] }]);
    for (const at of [4, 8 + ID_BYTES + 8]) {
      const bytes = Buffer.from(valid);
      bytes.writeUInt32LE(huge, at);
      expectSmallAllocation(() => expectDecoded(() => decodeIndexPayload(bytes, what), { ...corrupt, maxMs: 200 }));
    }
  });
});

describe('pack list fuzz', () => {
  it('random bytes decode or fail as corrupt data naming the list', () => {
    fc.assert(
      fc.property(randomBytesAfter(Buffer.from('SFPL')), (bytes) => {
        expectDecoded(() => decodePackList(bytes, what), corrupt);
      }),
      settings,
    );
  });

  it('damaged lists decode to sane entries or fail as corrupt data', () => {
    fc.assert(
      fc.property(
        listedArb.chain((packs) => mutationsOf(encodePackList(packs))),
        (bytes) => {
          const out = expectDecoded(() => decodePackList(bytes, what), corrupt);
          for (const p of out.value ?? []) {
            expect(Number.isSafeInteger(p.packLength)).toBe(true);
            expect(p.packId).toMatch(/^[0-9a-f]{64}$/);
          }
        },
      ),
      settings,
    );
  });

  it.each(HUGE_U32)('a pack count of %d fails promptly without allocating for it', (huge) => {
    const bytes = encodePackList([{ packId: 'cd'.repeat(32), packLength: 5 }]);
    bytes.writeUInt32LE(huge, 4);
    expectSmallAllocation(() => expectDecoded(() => decodePackList(bytes, what), { ...corrupt, maxMs: 200 }));
  });
});
