/**
 * What the EBS block reader and writer need to know about a snapshot that only EC2 tells: its
 * state, size and the volume it was taken of (its lineage, for ListChangedBlocks). It is a plain
 * function so that the EC2 provider can hand over what it already knows, and tests a fake.
 */
import { DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { ec2Send, type Ec2Api } from './ec2-api.js';
import { isAwsNotFound } from './aws-errors.js';

export interface EbsSnapshotInfo {
  snapshotId: string;
  /** The volume it was taken of; snapshots written with StartSnapshot have none (EC2 says vol-ffffffff). */
  volumeId?: string;
  state: 'pending' | 'completed' | 'error' | 'recoverable' | 'recovering';
  /** EBS volumes and snapshots are sized in whole GiB. */
  volumeSizeGiB: number;
}

/** The snapshot, or undefined when it does not exist (or was deleted). */
export type DescribeEbsSnapshot = (snapshotId: string) => Promise<EbsSnapshotInfo | undefined>;

/** EC2's placeholder volume id of snapshots that were not taken of a volume (copies, StartSnapshot). */
export const NO_VOLUME_ID = 'vol-ffffffff';

/** DescribeSnapshots in `region` through the EC2 side's limiter and retries. */
export function ec2SnapshotLookup(ec2: Ec2Api, region: string): DescribeEbsSnapshot {
  return async (snapshotId) => {
    let snapshots;
    try {
      const out = await ec2Send(ec2, region, 'describe', `DescribeSnapshots ${snapshotId}`, (client, abortSignal) =>
        client.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }), { abortSignal }),
      );
      snapshots = out.Snapshots ?? [];
    } catch (err) {
      if (isAwsNotFound(err)) return undefined;
      throw err;
    }
    const s = snapshots.find((x) => x.SnapshotId === snapshotId);
    if (!s || s.State === undefined || s.VolumeSize === undefined) return undefined;
    return {
      snapshotId,
      ...(s.VolumeId && s.VolumeId !== NO_VOLUME_ID ? { volumeId: s.VolumeId } : {}),
      state: s.State,
      volumeSizeGiB: s.VolumeSize,
    };
  };
}
