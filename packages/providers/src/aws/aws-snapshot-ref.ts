/**
 * The AWS provider's snapshot refs. A ref must say where the snapshot lives, because the worker
 * that polls or archives it may never have seen the volume:
 *
 * - `aws:<region>:<snap-id>`: one EBS snapshot (also a disaster-recovery copy, in its region).
 * - `aws-set:<region>:<vol-id>:<set token>`: the volume's snapshot inside an instance set
 *   (CreateSnapshots), found by the set's tag and the volume id. Until the set's leading job has
 *   created the set, the ref resolves to nothing and the snapshot reads as pending.
 */
import { InvalidInputError, type SnapshotRef } from '@snapfleet/shared';

export type AwsSnapshotRef = { kind: 'snapshot'; region: string; snapshotId: string } | { kind: 'set'; region: string; volumeId: string; setToken: string };

const SNAPSHOT_ID = /^snap-[0-9a-f]{8,17}$/;
const VOLUME_ID = /^vol-[0-9a-f]{8,17}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function snapshotRef(region: string, snapshotId: string): SnapshotRef {
  return `aws:${region}:${snapshotId}`;
}

export function setRef(region: string, volumeId: string, setToken: string): SnapshotRef {
  return `aws-set:${region}:${volumeId}:${setToken}`;
}

export function parseAwsRef(ref: SnapshotRef): AwsSnapshotRef {
  const parts = ref.split(':');
  if (parts[0] === 'aws' && parts.length === 3 && REGION.test(parts[1]!) && SNAPSHOT_ID.test(parts[2]!)) {
    return { kind: 'snapshot', region: parts[1]!, snapshotId: parts[2]! };
  }
  if (parts[0] === 'aws-set' && parts.length >= 4 && REGION.test(parts[1]!) && VOLUME_ID.test(parts[2]!)) {
    const setToken = parts.slice(3).join(':');
    if (setToken) return { kind: 'set', region: parts[1]!, volumeId: parts[2]!, setToken };
  }
  throw new InvalidInputError(`not an AWS snapshot ref: ${JSON.stringify(ref)} (expected aws:<region>:snap-… or aws-set:<region>:vol-…:<token>)`, 'ref');
}
