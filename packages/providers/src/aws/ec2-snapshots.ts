/**
 * EBS snapshots through EC2: find by tags, create idempotently, read the state, delete.
 *
 * CreateSnapshot takes no client token, so idempotency is by tag: every snapshot carries
 * `snapfleet:token` = the job's client token, and a create first looks for a snapshot with that
 * tag. A retried or taken-over job therefore finds the snapshot its first attempt started, and a
 * create whose answer was lost is looked for again before it is retried (ec2-find-or-create.ts).
 * The one gap is EC2's eventual consistency: a retry within seconds of a create whose answer was lost
 * may not see the tag yet and start a second snapshot; both are tagged, the oldest wins every
 * later lookup, and snapshot-tier retention removes the other with the slot's rules.
 */
import { CreateSnapshotCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, type Filter, type Snapshot, type Tag } from '@aws-sdk/client-ec2';
import { InvalidInputError, TransientError, type ProviderSnapshot, type SnapshotState } from '@snapfleet/shared';
import { isAwsNotFound } from './aws-errors.js';
import { ec2Send, type Ec2Api } from './ec2-api.js';
import { allPages } from './ec2-pages.js';
import { findOrCreate } from './ec2-find-or-create.js';
import { snapshotRef } from './aws-snapshot-ref.js';
import { engineTags, MAX_TAGS, tagValue, toEc2Tag, TOKEN_TAG, VOLUME_TAG } from './ec2-tags.js';

/** DescribeSnapshots accepts up to 1,000 per page. */
const SNAPSHOT_PAGE_SIZE = 1000;
/** EC2 caps snapshot descriptions at 255 characters. */
const MAX_DESCRIPTION = 255;

/** The fleet's snapshots of `region` matching `filters`, every page, oldest first. */
export async function describeOwnSnapshots(api: Ec2Api, region: string, filters: Filter[], what: string): Promise<Snapshot[]> {
  const found = await allPages(async (NextToken) => {
    const out = await ec2Send(api, region, 'describe', what, (client, abortSignal) =>
      // OwnerIds self: public and shared snapshots carrying the same tags are not ours.
      client.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters, MaxResults: SNAPSHOT_PAGE_SIZE, NextToken }), { abortSignal }),
    );
    return { items: out.Snapshots, nextToken: out.NextToken };
  });
  return found.sort(oldestFirst);
}

/** Start time, then id: two snapshots started in the same second still have one order. */
export function oldestFirst(a: Snapshot, b: Snapshot): number {
  const ta = a.StartTime?.getTime() ?? 0;
  const tb = b.StartTime?.getTime() ?? 0;
  if (ta !== tb) return ta - tb;
  return (a.SnapshotId ?? '') < (b.SnapshotId ?? '') ? -1 : 1;
}

/** The EC2 tags of a fleet snapshot: the engine tags plus the provider's bookkeeping. */
export function snapshotEc2Tags(tags: readonly string[], bookkeeping: Record<string, string>): Tag[] {
  const out = new Map<string, Tag>();
  for (const t of tags) {
    const tag = toEc2Tag(t);
    out.set(tag.Key!, tag);
  }
  for (const [Key, Value] of Object.entries(bookkeeping)) out.set(Key, { Key, Value });
  if (out.size > MAX_TAGS) throw new InvalidInputError(`a snapshot can carry ${MAX_TAGS} tags; the policy gives ${out.size}`, 'tags');
  return [...out.values()];
}

export function snapshotDescription(volumeId: string, tags: readonly string[]): string {
  return `snapfleet snapshot of ${volumeId} (${tags.join(', ')})`.slice(0, MAX_DESCRIPTION);
}

/**
 * Starts a snapshot of the volume, or returns the one a previous call with the same token started
 * (errored snapshots are skipped: the retry makes a fresh one). Returns the snapshot id.
 */
export async function createVolumeSnapshot(api: Ec2Api, region: string, volumeId: string, tags: readonly string[], clientToken: string): Promise<string> {
  const bookkeeping = { [VOLUME_TAG]: volumeId, [TOKEN_TAG]: clientToken };
  const ec2Tags = snapshotEc2Tags(tags, bookkeeping); // validates before any call
  const find = async () => {
    const existing = await describeOwnSnapshots(api, region, [{ Name: `tag:${TOKEN_TAG}`, Values: [clientToken] }], `DescribeSnapshots token=${clientToken}`);
    return existing.find((s) => s.State !== 'error' && s.SnapshotId)?.SnapshotId;
  };
  const create = async () => {
    const out = await ec2Send(
      api,
      region,
      'mutate',
      `CreateSnapshot of ${volumeId}`,
      (client, abortSignal) =>
        client.send(
          new CreateSnapshotCommand({
            VolumeId: volumeId,
            Description: snapshotDescription(volumeId, tags),
            TagSpecifications: [{ ResourceType: 'snapshot', Tags: ec2Tags }],
          }),
          { abortSignal },
        ),
      { idempotent: false },
    );
    if (!out.SnapshotId) throw new TransientError(`EC2 CreateSnapshot of ${volumeId} in ${region} returned no snapshot id`);
    return out.SnapshotId;
  };
  return findOrCreate(find, create);
}

/** The snapshot as EC2 describes it, or undefined when it does not exist. */
export async function describeSnapshot(api: Ec2Api, region: string, snapshotId: string): Promise<Snapshot | undefined> {
  try {
    const out = await ec2Send(api, region, 'describe', `DescribeSnapshots ${snapshotId}`, (client, abortSignal) =>
      client.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }), { abortSignal }),
    );
    return out.Snapshots?.find((s) => s.SnapshotId === snapshotId);
  } catch (err) {
    if (isAwsNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * EC2's states as the fleet's: `recovering` (coming back from the Recycle Bin) will be readable,
 * `recoverable` (in the Recycle Bin) will not unless someone restores it by hand.
 */
export function fleetState(state: string | undefined): SnapshotState {
  if (state === 'completed') return 'completed';
  if (state === 'pending' || state === 'recovering') return 'pending';
  return 'error';
}

export function toProviderSnapshot(s: Snapshot, region: string, volumeId: string): ProviderSnapshot {
  return {
    ref: snapshotRef(region, s.SnapshotId!),
    volumeId: tagValue(s.Tags, VOLUME_TAG) ?? volumeId,
    time: s.StartTime ?? new Date(0),
    tags: engineTags(s.Tags),
    state: fleetState(s.State),
  };
}

/** Deletes the snapshot; one that is already gone is success. */
export async function deleteSnapshotIn(api: Ec2Api, region: string, snapshotId: string): Promise<void> {
  try {
    await ec2Send(api, region, 'mutate', `DeleteSnapshot ${snapshotId}`, (client, abortSignal) =>
      client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }), { abortSignal }),
    );
  } catch (err) {
    if (!isAwsNotFound(err)) throw err;
  }
}
