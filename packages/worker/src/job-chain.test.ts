import { describe, expect, it } from 'vitest';
import { fleetConfigSchema } from '@snapfleet/shared/config';
import { volumeJobId, type VolumeJob } from '@snapfleet/shared/jobs';
import { createJobChain } from './job-chain.js';

const config = fleetConfigSchema.parse({ repositories: { main: { url: '/r' } }, fleet: { jobs: { attempts: 4, keepCompleted: '1h' } } });
const payload: VolumeJob = { v: 1, policy: 'nightly', volumeId: 'vol-1', slot: '20260131T020000Z', repository: 'main' };

function recorder() {
  const added: { queue: string; name: string; data: unknown; opts: { jobId?: string; attempts?: number; removeOnComplete?: unknown } }[] = [];
  const queue = (name: string) => ({
    add: async (jobName: string, data: unknown, opts: object) => void added.push({ queue: name, name: jobName, data, opts }),
  });
  return { added, queues: queue };
}

describe('the job chain', () => {
  it("adds the archive job naming the snapshot, then the retention job, under the slot's ids and the fleet's job options", async () => {
    const { added, queues } = recorder();
    const chain = createJobChain(queues, () => config);
    await chain.archiveAfter(payload, 'aws:us-east-1:snap-0123');
    await chain.retentionAfter({ ...payload, snapshotRef: 'aws:us-east-1:snap-0123' });
    expect(added.map((a) => [a.queue, a.name, a.opts.jobId])).toEqual([
      ['archive', 'archive', volumeJobId('archive', 'nightly', 'vol-1', payload.slot)],
      ['retention', 'retention', volumeJobId('retention', 'nightly', 'vol-1', payload.slot)],
    ]);
    expect(added[0]!.data).toEqual({ ...payload, snapshotRef: 'aws:us-east-1:snap-0123' });
    // The retention job's payload names no snapshot: it is about the volume and slot.
    expect(added[1]!.data).toEqual(payload);
    expect(added[0]!.opts).toMatchObject({ attempts: 4, removeOnComplete: { age: 3600 } });
  });

  it("keeps a routed volume's chain in its region's queues", async () => {
    const { added, queues } = recorder();
    const chain = createJobChain(queues, () => config);
    const routed: VolumeJob = { ...payload, region: 'eu-west-1' };
    await chain.archiveAfter(routed, 'aws:eu-west-1:snap-0456');
    await chain.retentionAfter({ ...routed, snapshotRef: 'aws:eu-west-1:snap-0456' });
    expect(added.map((a) => [a.queue, a.name])).toEqual([
      ['archive-eu-west-1', 'archive'],
      ['retention-eu-west-1', 'retention'],
    ]);
    expect(added[1]!.data).toEqual(routed);
  });
});
