/**
 * The EC2 side of restore drills' scratch copies (ebs-scratch-targets.ts): the snapshots and
 * volumes a drill made are tagged `snapfleet:source: drill` and `snapfleet:drill-started`, so they
 * can be listed, waited for and deleted by tag: by the drill that made them, or by a later
 * drill's sweep when a worker was killed before it deleted its own.
 */
import { DeleteVolumeCommand, DescribeVolumesCommand, type Filter, type Volume } from '@aws-sdk/client-ec2';
import { PermanentError, TransientError } from '@snapfleet/shared';
import { awsErrorName, isAwsNotFound } from './aws-errors.js';
import { ec2Send, type Ec2Api } from './ec2-api.js';
import { allPages, EC2_PAGE_SIZE } from './ec2-pages.js';
import { describeOwnSnapshots, deleteSnapshotIn } from './ec2-snapshots.js';

/** `snapfleet:source` = this value marks a drill's scratch snapshot or volume (IAM conditions use it). */
export const DRILL_SOURCE = 'drill';
export const SOURCE_TAG = 'snapfleet:source';
/** One drill's id: the snapshot and the volume of one scratch copy share it. */
export const DRILL_ID_TAG = 'snapfleet:drill';
/** When the drill started (ISO 8601): the sweep's age test, the same for snapshots and volumes. */
export const DRILL_STARTED_TAG = 'snapfleet:drill-started';

export interface ScratchResource {
  kind: 'snapshot' | 'volume';
  id: string;
  drillId?: string;
  startedAt?: Date;
  /** EC2's state: a volume is deleted only once it is `available` or `error`. */
  state?: string;
}

const drillFilter = (extra: Filter[] = []): Filter[] => [{ Name: `tag:${SOURCE_TAG}`, Values: [DRILL_SOURCE] }, ...extra];

function tagsOf(tags: { Key?: string; Value?: string }[] | undefined): { drillId?: string; startedAt?: Date } {
  const get = (key: string) => tags?.find((t) => t.Key === key)?.Value;
  const started = get(DRILL_STARTED_TAG);
  const at = started ? new Date(started) : undefined;
  const drillId = get(DRILL_ID_TAG);
  return { ...(drillId ? { drillId } : {}), ...(at && !Number.isNaN(at.getTime()) ? { startedAt: at } : {}) };
}

/** Scratch snapshots and volumes of `region`, of one drill (`drillId`) or of all drills. */
export async function listScratchResources(ec2: Ec2Api, region: string, drillId?: string): Promise<ScratchResource[]> {
  const filters = drillFilter(drillId ? [{ Name: `tag:${DRILL_ID_TAG}`, Values: [drillId] }] : []);
  const snapshots = await describeOwnSnapshots(ec2, region, filters, 'DescribeSnapshots of drill scratch copies');
  const volumes = await allPages(async (NextToken) => {
    const out = await ec2Send(ec2, region, 'describe', 'DescribeVolumes of drill scratch volumes', (client, abortSignal) =>
      client.send(new DescribeVolumesCommand({ Filters: filters, MaxResults: EC2_PAGE_SIZE, NextToken }), { abortSignal }),
    );
    return { items: out.Volumes, nextToken: out.NextToken };
  });
  return [
    ...snapshots
      .filter((s) => s.SnapshotId)
      .map((s) => ({ kind: 'snapshot' as const, id: s.SnapshotId!, ...tagsOf(s.Tags), ...(s.State ? { state: s.State } : {}) })),
    ...volumes.filter((v) => v.VolumeId).map((v) => ({ kind: 'volume' as const, id: v.VolumeId!, ...tagsOf(v.Tags), ...(v.State ? { state: v.State } : {}) })),
  ];
}

/** The volume's EC2 state, or undefined when it is gone. */
export async function scratchVolumeState(ec2: Ec2Api, region: string, volumeId: string): Promise<Volume['State'] | undefined> {
  try {
    const out = await ec2Send(ec2, region, 'describe', `DescribeVolumes ${volumeId}`, (client, abortSignal) =>
      client.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }), { abortSignal }),
    );
    return out.Volumes?.[0]?.State;
  } catch (err) {
    if (isAwsNotFound(err)) return undefined;
    throw err;
  }
}

/** Polls until the new volume is `available` (EBS made it from the snapshot); `error` fails. */
export async function waitUntilVolumeAvailable(
  ec2: Ec2Api,
  region: string,
  volumeId: string,
  wait: { pollMs: number; maxWaitMs: number; sleep: (ms: number) => Promise<void>; now: () => number },
): Promise<void> {
  const deadline = wait.now() + wait.maxWaitMs;
  for (;;) {
    const state = await scratchVolumeState(ec2, region, volumeId);
    if (state === 'available' || state === 'in-use') return;
    if (state === undefined) throw new PermanentError(`EBS volume ${volumeId} disappeared while it was being created`);
    if (state === 'error') throw new PermanentError(`EBS volume ${volumeId} failed (state error) while it was created from the restored snapshot`);
    if (wait.now() >= deadline) throw new TransientError(`EBS volume ${volumeId} is still ${state} after ${Math.round(wait.maxWaitMs / 1000)} s`);
    await wait.sleep(wait.pollMs);
  }
}

/** Deletes a scratch volume; a volume that is gone is success, one still being created is not. */
export async function deleteScratchVolume(ec2: Ec2Api, region: string, volumeId: string): Promise<void> {
  try {
    await ec2Send(ec2, region, 'mutate', `DeleteVolume ${volumeId}`, (client, abortSignal) =>
      client.send(new DeleteVolumeCommand({ VolumeId: volumeId }), { abortSignal }),
    );
  } catch (err) {
    if (isAwsNotFound(err)) return;
    if (awsErrorName(err) === 'IncorrectState')
      throw new TransientError(`EBS volume ${volumeId} cannot be deleted yet (it is still being created or attached)`, { cause: err });
    throw err;
  }
}

export async function deleteScratchResource(ec2: Ec2Api, region: string, r: ScratchResource): Promise<void> {
  if (r.kind === 'volume') await deleteScratchVolume(ec2, region, r.id);
  else await deleteSnapshotIn(ec2, region, r.id);
}
