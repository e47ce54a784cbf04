import { describe, expect, it } from 'vitest';
import { slotFromTime, timeFromSlot, volumeJobId, verifyJobId, schedulerId } from './job-ids.js';
import { volumeJobSchema, describePayloadError } from './payloads.js';

describe('job ids', () => {
  it('are deterministic, readable, and free of ":"', () => {
    const id = volumeJobId('archive', 'nightly', 'vol-0abc', '20260131T020000Z');
    expect(id).toBe('archive-nightly-vol-0abc-20260131T020000Z');
    expect(volumeJobId('archive', 'nightly', 'vol-0abc', '20260131T020000Z')).toBe(id);
  });

  it('encode ":" and "-" in policies so ids never collide or break BullMQ', () => {
    const a = volumeJobId('snapshot', 'a-b', 'c', '20260131T020000Z');
    const b = volumeJobId('snapshot', 'a', 'b-c', '20260131T020000Z');
    expect(a).not.toBe(b);
    expect(a).toBe('snapshot-a%2Db-c-20260131T020000Z');
    const weird = volumeJobId('snapshot', 'p', 'arn:aws:ec2 vol/1%', '20260131T020000Z');
    expect(weird).not.toContain(':');
    expect(weird).toBe('snapshot-p-arn%3Aaws%3Aec2%20vol%2F1%25-20260131T020000Z');
    expect(Number.isInteger(Number(verifyJobId('1', '20260131T020000Z')))).toBe(false);
    expect(schedulerId('tick', 'night-ly', 2)).toBe('tick-night%2Dly-2');
  });

  it('slots are ISO basic UTC and round-trip', () => {
    const t = new Date('2026-01-31T02:00:00Z');
    expect(slotFromTime(t)).toBe('20260131T020000Z');
    expect(slotFromTime(new Date('2026-01-31T02:00:00.250Z'))).toBe('20260131T020000.250Z');
    expect(timeFromSlot('20260131T020000.250Z').toISOString()).toBe('2026-01-31T02:00:00.250Z');
    expect(() => volumeJobId('archive', 'p', 'v', '2026-01-31')).toThrow(/ISO 8601 basic/);
  });

  it('payloads carry ids only and reject anything else with the field named', () => {
    const ok = volumeJobSchema.safeParse({ v: 1, policy: 'p', volumeId: 'v', slot: '20260131T020000Z', repository: 'r' });
    expect(ok.success).toBe(true);
    const bad = volumeJobSchema.safeParse({ v: 1, policy: 'p', volumeId: 7, slot: 'x', repository: 'r', password: 'x' });
    expect(bad.success).toBe(false);
    const text = describePayloadError(bad.error!);
    expect(text).toContain('volumeId');
    expect(text).toContain('slot');
  });
});
