/**
 * The EC2 half of a restore into EBS: after the EBS direct APIs wrote and completed a snapshot,
 * wait until EC2 reports it completed and create a volume from it in the chosen availability
 * zone; or, when the restore is abandoned, delete the half-written snapshot.
 */
import { CreateVolumeCommand, DeleteSnapshotCommand } from '@aws-sdk/client-ec2';
import { PermanentError, TransientError } from '@snapfleet/shared';
import { isAwsNotFound } from './aws-errors.js';
import { ec2Send, type Ec2Api } from './ec2-api.js';
import { ec2SnapshotLookup, type DescribeEbsSnapshot } from './ebs-snapshot-lookup.js';

/** What EbsSnapshotTarget needs from EC2. */
export interface EbsRestoreEc2 {
  /** Resolves once the snapshot is completed; rejects if it fails or takes too long. */
  waitUntilCompleted(snapshotId: string): Promise<void>;
  /** Creates a volume of the snapshot in `zone` (a zone name or id); returns the volume id. */
  createVolume(snapshotId: string, zone: string, clientToken: string): Promise<string>;
  /** Deletes the snapshot; a missing one is not an error. */
  deleteSnapshot(snapshotId: string): Promise<void>;
}

export interface Ec2RestoreOptions {
  /** @defaultValue "gp3": the current general-purpose type, cheaper than gp2 at equal size */
  volumeType?: 'gp2' | 'gp3' | 'io1' | 'io2' | 'st1' | 'sc1' | 'standard';
  /**
   * Between two DescribeSnapshots while waiting. @defaultValue 15 s: completion takes minutes,
   * and DescribeSnapshots shares the account's EC2 describe budget with the whole fleet
   */
  pollMs?: number;
  /** Give up waiting after this long. @defaultValue 6 h: EC2 may take hours to complete a large snapshot */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** @defaultValue DescribeSnapshots through `ec2` */
  describeSnapshot?: DescribeEbsSnapshot;
  /** Tags of the new volume (a drill's scratch volume carries them so a sweep can find it). */
  volumeTags?: Readonly<Record<string, string>>;
}

/** Zone ids (use1-az1) rather than names (us-east-1a): the same physical zone in every account. */
const ZONE_ID = /^[a-z]{2,4}\d+-az\d+$/;

export function ec2RestoreVolume(ec2: Ec2Api, region: string, options: Ec2RestoreOptions = {}): EbsRestoreEc2 {
  const describe = options.describeSnapshot ?? ec2SnapshotLookup(ec2, region);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 15_000;
  const maxWaitMs = options.maxWaitMs ?? 6 * 3_600_000;
  return {
    async waitUntilCompleted(snapshotId) {
      const deadline = now() + maxWaitMs;
      for (;;) {
        const info = await describe(snapshotId);
        if (!info) throw new PermanentError(`EBS snapshot ${snapshotId} disappeared while waiting for it to complete`);
        if (info.state === 'completed') return;
        if (info.state === 'error') throw new PermanentError(`EBS snapshot ${snapshotId} failed (state error) after it was completed`);
        if (now() >= deadline) throw new TransientError(`EBS snapshot ${snapshotId} is still ${info.state} after ${Math.round(maxWaitMs / 60_000)} minutes`);
        await sleep(pollMs);
      }
    },
    async createVolume(snapshotId, zone, clientToken) {
      const out = await ec2Send(ec2, region, 'mutate', `CreateVolume from ${snapshotId} in ${zone}`, (client, abortSignal) =>
        client.send(
          new CreateVolumeCommand({
            SnapshotId: snapshotId,
            ...(ZONE_ID.test(zone) ? { AvailabilityZoneId: zone } : { AvailabilityZone: zone }),
            VolumeType: options.volumeType ?? 'gp3',
            ClientToken: clientToken,
            ...(options.volumeTags
              ? { TagSpecifications: [{ ResourceType: 'volume', Tags: Object.entries(options.volumeTags).map(([Key, Value]) => ({ Key, Value })) }] }
              : {}),
          }),
          { abortSignal },
        ),
      );
      if (!out.VolumeId) throw new PermanentError(`EC2 CreateVolume from ${snapshotId} in ${zone} returned no volume id`);
      return out.VolumeId;
    },
    async deleteSnapshot(snapshotId) {
      try {
        await ec2Send(ec2, region, 'mutate', `DeleteSnapshot ${snapshotId}`, (client, abortSignal) =>
          client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }), { abortSignal }),
        );
      } catch (err) {
        if (!isAwsNotFound(err)) throw err;
      }
    },
  };
}
