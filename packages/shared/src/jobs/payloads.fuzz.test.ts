/**
 * Fuzz properties of the job payload parsers: whatever a queue hands a worker (any JSON, a valid
 * payload with one field replaced or removed), parsing returns data the worker can act on, or a
 * failure whose description names the field. A slot that passes is a real instant.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { expectDecoded, fuzzSettings } from '../testing/decoder-fuzz.js';
import { slotFromTime, timeFromSlot } from './job-ids.js';
import { describePayloadError, snapshotResultSchema, tickJobSchema, verifyJobSchema, volumeJobSchema } from './payloads.js';

const settings = fuzzSettings(process.env);

const slotArb = fc.oneof(
  fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true }).map(slotFromTime),
  // Digits in every position: months past 12, days past 31, hours past 23, February 30th.
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
    )
    .map(
      ([y, mo, d, h, mi, s]) =>
        `${String(y).padStart(4, '0')}${String(mo).padStart(2, '0')}${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}${String(mi).padStart(2, '0')}${String(s).padStart(2, '0')}Z`,
    ),
  fc.string({ maxLength: 24 }),
);

const hostile = fc.oneof(fc.jsonValue({ maxDepth: 2 }), slotArb, fc.constantFrom('', 'x'.repeat(600), -1, 0, 101, 1e308, null));

function mutationsOf(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  return fc.oneof(
    fc.constant(valid),
    fc.tuple(fc.constantFrom(...keys, 'password', '__proto__', 'extra'), fc.option(hostile, { nil: undefined })).map(([k, v]) => {
      const copy: Record<string, unknown> = { ...valid };
      if (v === undefined) delete copy[k];
      else Object.defineProperty(copy, k, { value: v, enumerable: true, configurable: true, writable: true });
      return copy;
    }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.anything({ maxDepth: 2 }),
  );
}

const volumeJob = { v: 1, policy: 'nightly', volumeId: 'vol-1', slot: '20260131T020000Z', repository: 'main' };
const cases: [string, z.ZodType, Record<string, unknown>][] = [
  ['volume job', volumeJobSchema, volumeJob],
  ['verify job', verifyJobSchema, { v: 1, repository: 'main', slot: '20260131T020000Z', readDataSubset: 5 }],
  ['policy tick', tickJobSchema, { v: 1, kind: 'policy', policy: 'nightly' }],
  ['verify tick', tickJobSchema, { v: 1, kind: 'verify', repository: 'main' }],
  ['snapshot result', snapshotResultSchema, { ref: 'snap-1', volumeId: 'vol-1' }],
];

describe('job payload fuzz', () => {
  it.each(cases)('a %s parses to usable data or fails naming the field', (_name, schema, valid) => {
    expect(schema.safeParse(valid).success).toBe(true);
    fc.assert(
      fc.property(mutationsOf(valid), (data) => {
        const result = schema.safeParse(data);
        if (result.success) {
          const slot = (result.data as { slot?: string }).slot;
          if (slot !== undefined) expect(Number.isNaN(timeFromSlot(slot).getTime())).toBe(false);
          return;
        }
        const text = describePayloadError(result.error);
        expect(text.length).toBeGreaterThan(0);
        const fieldIssue = result.error.issues.find((i) => i.path.length > 0);
        if (fieldIssue) expect(text).toContain(`${fieldIssue.path.join('.')}: `);
      }),
      settings,
    );
  });

  it('a slot is a real instant, or invalid input naming the slot', () => {
    fc.assert(
      fc.property(slotArb, (slot) => {
        const out = expectDecoded(() => timeFromSlot(slot), { errors: [InvalidInputError], names: 'slot' });
        if (out.value) {
          expect(Number.isNaN(out.value.getTime())).toBe(false);
          expect(slotFromTime(out.value)).toBe(slot.replace('.000Z', 'Z'));
        }
        const parsed = volumeJobSchema.safeParse({ ...volumeJob, slot });
        expect(parsed.success).toBe(out.value !== undefined);
      }),
      settings,
    );
  });
});
