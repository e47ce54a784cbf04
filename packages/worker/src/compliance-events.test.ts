import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { ArchiveHistory, ComplianceRecorder } from '@snapfleet/providers/fleet';
import { recordCompliance } from './compliance-events.js';

const SLOT = '20260301T020000Z';
const NOW = new Date('2026-03-01T03:00:00Z');
const job = (returnvalue: unknown): Job => ({ data: { v: 1, policy: 'daily', volumeId: 'vol-1', slot: SLOT, repository: 'main' }, returnvalue }) as Job;

/** Records what reaches the history and the recorder; both resolve at once. */
function sinks() {
  const recorded: unknown[][] = [];
  const points: string[] = [];
  const store: ArchiveHistory = {
    record: async (...args) => void recorded.push(args),
    read: async () => [],
    forget: async () => {},
  };
  const recorder = {
    archived: async (_p: string, _v: string, point: { id: string }) => void points.push(`archive ${point.id}`),
    snapshotted: async (_p: string, _v: string, point: { id: string }) => void points.push(`snapshot ${point.id}`),
    failed: async () => void points.push('failed'),
  } as unknown as ComplianceRecorder; // only what recordCompliance calls
  return {
    recorded,
    points,
    events: recordCompliance(
      recorder,
      { now: () => NOW },
      (err) => {
        throw err;
      },
      { store, keepMs: () => 7 * 86_400_000 },
    ),
  };
}

describe('compliance events', () => {
  it("records how every archive ended in the volume's history, and a recovery point only for an archive", async () => {
    const { recorded, points, events } = sinks();
    events.completed('archive', job({ snapshotId: 'abc', reused: false }));
    events.completed('archive', job({ snapshotId: 'def', reused: true }));
    events.completed('archive', job({ volumeId: 'vol-1', skipped: true, reason: 'not selected' }));
    events.failed('archive', job(undefined), new Error('boom'));
    await new Promise((r) => setImmediate(r));
    expect(recorded.map((r) => [r[0], r[1], r[2], (r[3] as Date).toISOString(), r[4], r[5], r[6]])).toEqual(
      ['archived', 'reused', 'skipped', 'failed'].map((o) => ['daily', 'vol-1', SLOT, '2026-03-01T02:00:00.000Z', o, 7 * 86_400_000, NOW]),
    );
    expect(points).toEqual(['archive abc', 'archive def', 'failed']);
  });
});
