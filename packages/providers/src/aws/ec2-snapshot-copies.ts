/**
 * Disaster-recovery copies: the fleet's snapshots copied to other regions (EC2 CopySnapshot,
 * always encrypted with the destination's configured KMS key), each region with its own
 * retention. CopySnapshot takes no client token either, so a copy is tagged
 * `snapfleet:copy-of` = the source snapshot id and a copy first looks for one; the copy also
 * carries the source's engine tags and `snapfleet:volume`, because a copy's own VolumeId is
 * EC2's placeholder, not the volume.
 */
import { CopySnapshotCommand } from '@aws-sdk/client-ec2';
import { InvalidInputError, NotFoundError, TransientError, type ProviderSnapshot, type SnapshotRef } from '@snapfleet/shared';
import { snapshotRef } from './aws-snapshot-ref.js';
import { ec2Send, type Ec2Api } from './ec2-api.js';
import { describeOwnSnapshots, describeSnapshot, snapshotEc2Tags, toProviderSnapshot } from './ec2-snapshots.js';
import { COPY_OF_TAG, engineTags, snapshotTagFilters, VOLUME_TAG } from './ec2-tags.js';
import { findOrCreate } from './ec2-find-or-create.js';

export interface CopyDestination {
  region: string;
  /** KMS key (id, alias or ARN) in `region` the copy is encrypted with. */
  kmsKeyId: string;
}

/**
 * Starts (or finds) the copy of snapshot `snapshotId` of `volumeId` from `sourceRegion` at
 * `dest`. The source must be completed: EC2 refuses to copy a pending snapshot.
 */
export async function copySnapshotTo(api: Ec2Api, sourceRegion: string, snapshotId: string, volumeId: string, dest: CopyDestination): Promise<SnapshotRef> {
  if (dest.region === sourceRegion) throw new InvalidInputError(`snapshot ${snapshotId} is already in ${dest.region}`, 'region');
  const find = async () => {
    const existing = await describeOwnSnapshots(
      api,
      dest.region,
      [{ Name: `tag:${COPY_OF_TAG}`, Values: [snapshotId] }],
      `DescribeSnapshots copy-of=${snapshotId}`,
    );
    const found = existing.find((s) => s.State !== 'error' && s.SnapshotId);
    return found ? snapshotRef(dest.region, found.SnapshotId!) : undefined;
  };
  const create = async () => {
    const source = await describeSnapshot(api, sourceRegion, snapshotId);
    if (!source) throw new NotFoundError(`snapshot ${snapshotId} of ${volumeId} in ${sourceRegion} does not exist: nothing to copy to ${dest.region}`);
    // Pending is a delay, not a failure: the caller's job retries.
    if (source.State !== 'completed')
      throw new TransientError(`snapshot ${snapshotId} in ${sourceRegion} is ${source.State ?? 'in no known state'}; it is copied once completed`);
    const tags = snapshotEc2Tags(engineTags(source.Tags), { [VOLUME_TAG]: volumeId, [COPY_OF_TAG]: snapshotId });
    const out = await ec2Send(
      api,
      dest.region,
      'mutate',
      `CopySnapshot ${sourceRegion}/${snapshotId} of ${volumeId}`,
      (client, abortSignal) =>
        client.send(
          new CopySnapshotCommand({
            SourceRegion: sourceRegion,
            SourceSnapshotId: snapshotId,
            // Always encrypted: the copy leaves the source region's key policy behind, and an
            // unencrypted copy would be a quiet downgrade of an encrypted source.
            Encrypted: true,
            KmsKeyId: dest.kmsKeyId,
            Description: `snapfleet copy of ${sourceRegion}/${snapshotId} (${volumeId})`,
            TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }],
          }),
          { abortSignal },
        ),
      { idempotent: false },
    );
    if (!out.SnapshotId) throw new TransientError(`EC2 CopySnapshot of ${snapshotId} to ${dest.region} returned no snapshot id`);
    return snapshotRef(dest.region, out.SnapshotId);
  };
  return findOrCreate(find, create);
}

/** The volume's copies in `region` carrying every one of `tags`, oldest first. */
export async function listCopiesIn(api: Ec2Api, region: string, volumeId: string, tags: readonly string[]): Promise<ProviderSnapshot[]> {
  const filters = [{ Name: `tag:${VOLUME_TAG}`, Values: [volumeId] }, { Name: 'tag-key', Values: [COPY_OF_TAG] }, ...snapshotTagFilters(tags)];
  const found = await describeOwnSnapshots(api, region, filters, `DescribeSnapshots copies of ${volumeId}`);
  return found.map((s) => toProviderSnapshot(s, region, volumeId)).filter((s) => tags.every((t) => s.tags.includes(t)));
}
