/**
 * Instance sets: the volumes of one instance snapshotted at one instant (EC2 CreateSnapshots,
 * crash-consistent across the volumes), while the fleet still runs one job per volume.
 *
 * How the per-volume jobs share one CreateSnapshots call:
 * - Every volume job of the set computes the same set token, `<policy>/<instance>/<slot>`, and the
 *   same leader: the smallest volume id of the instance that the policy covers.
 * - Only the leader's job calls CreateSnapshots, and only when no snapshot tagged with the token
 *   exists yet (the leader's job holds its volume's stage lock, so this check-then-create never
 *   races another job). Volumes of the instance that the policy does not cover are excluded.
 * - Every job (leader or not) returns a set ref (aws-snapshot-ref.ts); its snapshot is the one
 *   tagged with the token whose source volume is the job's volume. Until the leader has created
 *   the set, the ref reads as pending and the job re-delays, as for any pending snapshot.
 * If the leader's job never runs (its volume was detached or deleted after the tick), the others
 * would wait forever: a set still missing SET_LEADER_GRACE_MS after its slot fails their jobs
 * with a message that names the set; the next tick computes a new leader from the volumes then
 * attached.
 */
import { CreateSnapshotsCommand, type Snapshot } from '@aws-sdk/client-ec2';
import { ec2Send, type Ec2Api } from './ec2-api.js';
import { describeOwnSnapshots, snapshotDescription, snapshotEc2Tags } from './ec2-snapshots.js';
import { SET_TAG } from './ec2-tags.js';
import { findOrCreate } from './ec2-find-or-create.js';
import type { Ec2Instance } from './ec2-volumes.js';

/**
 * How long after its slot a set may still be missing: the leader's job waits at most for the
 * snapshot queue's backlog and its retries, which take minutes; an hour means it will not come.
 */
export const SET_LEADER_GRACE_MS = 60 * 60 * 1000;

export function instanceSetToken(policy: string, instanceId: string, slot: string): string {
  return `${policy}/${instanceId}/${slot}`;
}

/** The volume whose job creates the set: the smallest covered volume id. */
export function setLeader(coveredVolumeIds: readonly string[]): string | undefined {
  return [...coveredVolumeIds].sort()[0];
}

/** Snapshots tagged with the set token (optionally of one source volume), oldest first. */
export function describeSetSnapshots(api: Ec2Api, region: string, setToken: string, volumeId?: string): Promise<Snapshot[]> {
  const filters = [{ Name: `tag:${SET_TAG}`, Values: [setToken] }];
  if (volumeId) filters.push({ Name: 'volume-id', Values: [volumeId] });
  return describeOwnSnapshots(api, region, filters, `DescribeSnapshots set=${setToken}${volumeId ? ` volume=${volumeId}` : ''}`);
}

/** The volume's snapshot in the set: the oldest that did not fail (see ec2-snapshots.ts on duplicates). */
export async function findSetSnapshot(api: Ec2Api, region: string, setToken: string, volumeId: string): Promise<Snapshot | undefined> {
  const found = await describeSetSnapshots(api, region, setToken, volumeId);
  return found.find((s) => s.State !== 'error' && s.VolumeId === volumeId);
}

/**
 * Creates the instance's set unless a snapshot with the token exists. `covered` are the volumes
 * of the instance the policy covers; the others are excluded from the set.
 */
export async function ensureInstanceSet(
  api: Ec2Api,
  instance: Ec2Instance,
  covered: readonly string[],
  tags: readonly string[],
  setToken: string,
): Promise<void> {
  const { region, instanceId } = instance;
  const find = async () => ((await describeSetSnapshots(api, region, setToken)).some((s) => s.State !== 'error') ? true : undefined);
  const coveredSet = new Set(covered);
  const excludeBoot = instance.rootVolumeId !== undefined && !coveredSet.has(instance.rootVolumeId);
  // ExcludeDataVolumeIds must not name the root volume: that one is excluded with ExcludeBootVolume.
  const excludeData = instance.volumeIds.filter((v) => v !== instance.rootVolumeId && !coveredSet.has(v));
  const ec2Tags = snapshotEc2Tags(tags, { [SET_TAG]: setToken });
  const create = async () => {
    await ec2Send(
      api,
      region,
      'mutate',
      `CreateSnapshots of ${instanceId}`,
      (client, abortSignal) =>
        client.send(
          new CreateSnapshotsCommand({
            InstanceSpecification: {
              InstanceId: instanceId,
              ExcludeBootVolume: excludeBoot,
              ...(excludeData.length ? { ExcludeDataVolumeIds: excludeData } : {}),
            },
            Description: snapshotDescription(instanceId, tags),
            TagSpecifications: [{ ResourceType: 'snapshot', Tags: ec2Tags }],
          }),
          { abortSignal },
        ),
      { idempotent: false },
    );
    return true;
  };
  await findOrCreate(find, create);
}
