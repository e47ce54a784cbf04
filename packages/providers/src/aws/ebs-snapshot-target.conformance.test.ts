import { describeVolumeTargetConformance, type VolumeTargetFactory } from '@snapfleet/shared/testing';
import { EbsSnapshotTarget } from './ebs-snapshot-target.js';
import { FakeEbsWorld } from './testing/fake-ebs.js';

/** A target over its own fake EBS world; with a zone it also creates a volume from the snapshot. */
function ebsTargets(availabilityZone?: string): VolumeTargetFactory {
  return async () => {
    const world = new FakeEbsWorld();
    // Few puts in flight: write() must wait for room while later runs arrive out of order.
    const target = new EbsSnapshotTarget({
      api: world.api().api,
      ec2: world.ec2,
      now: () => world.time,
      putsInFlight: 3,
      ...(availabilityZone ? { availabilityZone } : {}),
    });
    return {
      target,
      // Published means completed (and, with a zone, a volume made from it): a pending snapshot is
      // not a restored volume yet, a deleted one is gone. The world's one snapshot, if any, is the
      // one the target started.
      readBack: async (size) => {
        const [snapshot] = world.snapshots.values();
        if (!snapshot || snapshot.deleted || snapshot.state !== 'completed') return undefined;
        if (availabilityZone && !world.volumes.some((v) => v.snapshotId === snapshot.id && v.zone === availabilityZone)) return undefined;
        return world.readVolume(snapshot.id, size);
      },
      cleanup: async () => {},
    };
  };
}

describeVolumeTargetConformance('EbsSnapshotTarget (fake EBS direct APIs)', ebsTargets());
describeVolumeTargetConformance('EbsSnapshotTarget with a volume (fake EBS direct APIs)', ebsTargets('eu-west-1a'));
