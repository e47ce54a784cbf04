import { describe, expect, it } from 'vitest';
import type { ProviderSnapshot, SnapshotCopies, SnapshotCopyTarget, SnapshotRef } from '@snapfleet/shared';
import { parseFleetConfig } from '@snapfleet/shared/config';
import { policyTag, slotFromTime, slotTag } from '@snapfleet/shared/jobs';
import { MemoryVolumeProvider } from '@snapfleet/shared/testing';
import { applySnapshotCopies } from './snapshot-copies.js';

/** A memory provider whose snapshots can be copied to named targets, as the AWS provider's regions. */
class CopyingProvider extends MemoryVolumeProvider {
  readonly stored = new Map<string, (ProviderSnapshot & { source: SnapshotRef })[]>();
  copyCalls = 0;
  copies: SnapshotCopies;

  constructor(targets: SnapshotCopyTarget[], now: () => Date) {
    super({ 'vol-1': { data: new Uint8Array(4096) } }, { clock: { now } });
    this.copies = {
      targets,
      copy: async (volumeId, ref, target) => {
        this.copyCalls++;
        const list = this.stored.get(target) ?? [];
        const found = list.find((c) => c.source === ref);
        if (found) return found.ref;
        const source = (await this.listSnapshots(volumeId, [])).find((s) => s.ref === ref)!;
        const copy = { ...source, ref: `copy:${target}:${ref}`, source: ref };
        list.push(copy);
        this.stored.set(target, list);
        return copy.ref;
      },
      listCopies: async (_volumeId, target, tags) => (this.stored.get(target) ?? []).filter((c) => tags.every((t) => c.tags.includes(t))),
    };
  }

  override async deleteSnapshot(ref: SnapshotRef): Promise<void> {
    for (const [target, list] of this.stored)
      this.stored.set(
        target,
        list.filter((c) => c.ref !== ref),
      );
    if (!ref.startsWith('copy:')) await super.deleteSnapshot(ref);
  }
}

const config = parseFleetConfig(
  `
repositories: { main: { url: /tmp/unused } }
policies:
  - name: daily
    schedules: [{ every: 1d }]
    repository: main
    retention: { snapshotTier: { keepLast: 2 }, archiveTier: { keepDaily: 7 } }
`,
  'fleet.yaml',
);
const policy = config.policies[0]!;
const log = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} } as never;

describe('applySnapshotCopies', () => {
  it('copies the slot snapshot to every target once, and applies each target its own retention', async () => {
    let now = new Date('2026-03-01T02:00:00Z');
    const provider = new CopyingProvider([{ name: 'us-west-2' }, { name: 'eu-central-1' }], () => now);
    const rules = new Map([['eu-central-1', { keepLast: 1 }]]);
    const deps = { provider, clock: { now: () => now }, log };
    const slots: string[] = [];
    for (let day = 0; day < 4; day++) {
      now = new Date(Date.UTC(2026, 2, 1 + day, 2));
      const slot = slotFromTime(now);
      slots.push(slot);
      provider.addSnapshot('vol-1', now, [policyTag('daily'), slotTag(slot)]);
      const outcome = await applySnapshotCopies(deps, policy, 'vol-1', slot, rules);
      expect(outcome.copied).toHaveLength(2);
    }
    // Repeating a slot (a retried job) finds its copies again.
    const again = await applySnapshotCopies(deps, policy, 'vol-1', slots[3]!, rules);
    expect(again.deleted).toEqual([]);
    expect(new Set(again.copied)).toEqual(
      new Set(
        (await Promise.all(['us-west-2', 'eu-central-1'].map((t) => provider.copies.listCopies('vol-1', t, []))))
          .flat()
          .filter((c) => c.tags.includes(slotTag(slots[3]!)))
          .map((c) => c.ref),
      ),
    );
    // us-west-2 follows the policy's snapshot tier (keepLast 2), eu-central-1 its own (keepLast 1).
    const slotsAt = async (target: string) =>
      (await provider.copies.listCopies('vol-1', target, [])).map((c) => c.tags.find((t) => t.startsWith('slot='))).sort();
    expect(await slotsAt('us-west-2')).toEqual([slotTag(slots[2]!), slotTag(slots[3]!)]);
    expect(await slotsAt('eu-central-1')).toEqual([slotTag(slots[3]!)]);
  });

  it('does nothing for a provider without copies, or a snapshot not completed yet', async () => {
    const now = new Date('2026-03-01T02:00:00Z');
    const plain = new MemoryVolumeProvider({ 'vol-1': { data: new Uint8Array(16) } }, { clock: { now: () => now } });
    expect(await applySnapshotCopies({ provider: plain, clock: { now: () => now }, log }, policy, 'vol-1', slotFromTime(now), new Map())).toEqual({
      copied: [],
      deleted: [],
    });
    const provider = new CopyingProvider([{ name: 'us-west-2' }], () => now);
    provider.addSnapshot('vol-1', now, [policyTag('daily'), slotTag(slotFromTime(now))], 'pending');
    expect(await applySnapshotCopies({ provider, clock: { now: () => now }, log }, policy, 'vol-1', slotFromTime(now), new Map())).toEqual({
      copied: [],
      deleted: [],
    });
    expect(provider.copyCalls).toBe(0);
  });
});
