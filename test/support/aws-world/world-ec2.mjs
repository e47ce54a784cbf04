/**
 * The EC2 calls of the fake AWS world: volumes, snapshots (CreateSnapshot freezes a copy of the
 * volume's image), copies and volumes made from snapshots. Each handler takes the command's input
 * and the client's region and returns what the SDK would; errors are WorldErrors with EC2's names.
 * Unknown filter names fail loudly: a filter the fake ignored would make a test pass wrongly.
 */
import { Buffer } from 'node:buffer';
import { WorldError } from './world-files.mjs';

/** EC2's placeholder volume id of snapshots not taken of a volume (copies, StartSnapshot). */
export const NO_VOLUME_ID = 'vol-ffffffff';
const OWNER_ID = '111122223333';

/** EC2 filter values are shell-style patterns (`*`, `?`). */
function valueMatches(patterns, value) {
  if (value === undefined) return false;
  return patterns.some((p) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    ).test(value),
  );
}

function tagMatch(tags, name, values) {
  if (name === 'tag-key') return tags.some((t) => valueMatches(values, t.Key));
  if (name.startsWith('tag:')) return tags.some((t) => t.Key === name.slice(4) && valueMatches(values, t.Value ?? ''));
  return undefined;
}

function filtersMatch(filters, tags, fields) {
  return (filters ?? []).every((f) => {
    const byTag = tagMatch(tags, f.Name, f.Values ?? []);
    if (byTag !== undefined) return byTag;
    if (!(f.Name in fields)) throw new WorldError('ec2', 'InvalidParameterValue', `The filter '${f.Name}' is invalid (the fake AWS world does not know it)`);
    return valueMatches(f.Values ?? [], fields[f.Name]);
  });
}

/**
 * One page of `items`: EC2 reads `describePage` records per call and filters afterwards, so a
 * page may be empty and still carry a NextToken. Without MaxResults, everything in one answer.
 */
function page(items, input, perPage, keep) {
  if (input.MaxResults === undefined && input.NextToken === undefined) return { items: items.filter(keep) };
  const start = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw new WorldError('ec2', 'InvalidParameterValue', `invalid NextToken ${input.NextToken}`);
  const end = Math.min(items.length, start + Math.min(perPage, input.MaxResults ?? perPage));
  const nextToken = end < items.length ? Buffer.from(String(end)).toString('base64') : undefined;
  return { items: items.slice(start, end).filter(keep), ...(nextToken ? { nextToken } : {}) };
}

function toSnapshot(world, r) {
  return {
    SnapshotId: r.id,
    VolumeId: r.volumeId ?? NO_VOLUME_ID,
    State: world.stateOf(r),
    StartTime: new Date(r.startTime),
    Progress: world.stateOf(r) === 'completed' ? '100%' : '0%',
    OwnerId: OWNER_ID,
    VolumeSize: r.volumeSizeGiB,
    Description: r.description ?? '',
    Encrypted: false,
    Tags: r.tags,
  };
}

function snapshotTags(input) {
  return (input.TagSpecifications ?? []).filter((s) => s.ResourceType === 'snapshot').flatMap((s) => s.Tags ?? []);
}

function snapshotNotFound(id) {
  return new WorldError('ec2', 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
}

/**
 * The records of the ids asked for, in the order a full scan lists them: a call that names its
 * ids reads just those files, so its cost does not grow with the world.
 */
function byIds(ids, read) {
  return [...new Set(ids)]
    .filter((id) => !id.includes('/'))
    .sort()
    .map(read)
    .filter(Boolean);
}

export function ec2Handlers(world) {
  return {
    DescribeVolumes(input, region) {
      const all = (input.VolumeIds?.length ? byIds(input.VolumeIds, (id) => world.volume(id)) : world.volumes()).filter((v) => v.region === region);
      if (input.VolumeIds?.length) {
        const missing = input.VolumeIds.find((id) => !all.some((v) => v.id === id));
        if (missing) throw new WorldError('ec2', 'InvalidVolume.NotFound', `The volume '${missing}' does not exist.`);
      }
      const keep = (v) =>
        (!input.VolumeIds?.length || input.VolumeIds.includes(v.id)) &&
        filtersMatch(input.Filters, v.tags, { 'volume-id': v.id, status: 'available', 'availability-zone': v.az, size: String(v.sizeGiB) });
      const { items, nextToken } = page(all, input, world.settings.describePage, keep);
      return {
        Volumes: items.map((v) => ({
          VolumeId: v.id,
          Size: v.sizeGiB,
          State: 'available',
          AvailabilityZone: v.az,
          Tags: v.tags,
          Attachments: [],
          VolumeType: 'gp3',
          Encrypted: false,
        })),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },

    DescribeSnapshots(input, region) {
      const all = (input.SnapshotIds?.length ? byIds(input.SnapshotIds, (id) => world.snapshot(id)) : world.snapshots()).filter((s) => s.region === region);
      for (const id of input.SnapshotIds ?? []) if (!all.some((s) => s.id === id)) throw snapshotNotFound(id);
      const owners = input.OwnerIds ?? [];
      if (owners.some((o) => o !== 'self' && o !== OWNER_ID)) return { Snapshots: [] };
      const keep = (s) =>
        (!input.SnapshotIds?.length || input.SnapshotIds.includes(s.id)) &&
        filtersMatch(input.Filters, s.tags, { 'snapshot-id': s.id, 'volume-id': s.volumeId ?? NO_VOLUME_ID, status: world.stateOf(s), 'owner-id': OWNER_ID });
      const { items, nextToken } = page(all, input, world.settings.describePage, keep);
      // The answer is computed first and counted after: this poll still sees the old state.
      const snapshots = items.map((s) => toSnapshot(world, s));
      for (const s of items) world.countPoll(s.id);
      return { Snapshots: snapshots, ...(nextToken ? { NextToken: nextToken } : {}) };
    },

    CreateSnapshot(input, region) {
      const volume = world.volume(input.VolumeId ?? '');
      if (!volume || volume.region !== region) throw new WorldError('ec2', 'InvalidVolume.NotFound', `The volume '${input.VolumeId}' does not exist.`);
      const id = world.newId('snap');
      // The point in time: the volume's bytes as they are now, whatever the test writes later.
      world.copyFileAtomic(world.volumeImage(volume.id), world.snapshotImage(id));
      const record = {
        id,
        region,
        origin: 'create',
        volumeId: volume.id,
        volumeSizeGiB: volume.sizeGiB,
        tags: snapshotTags(input),
        description: input.Description ?? '',
        startTime: Date.now(),
        state: 'completed',
        ...world.pendingFields(),
      };
      world.saveSnapshot(record);
      return { ...toSnapshot(world, record), State: 'pending' };
    },

    DeleteSnapshot(input, region) {
      const s = world.snapshot(input.SnapshotId ?? '');
      if (!s || s.region !== region) throw snapshotNotFound(input.SnapshotId);
      world.deleteSnapshot(s.id);
      return {};
    },

    CopySnapshot(input, region) {
      const source = world.snapshot(input.SourceSnapshotId ?? '');
      if (!source || source.region !== input.SourceRegion) throw snapshotNotFound(input.SourceSnapshotId);
      const id = world.newId('snap');
      world.copyFileAtomic(world.snapshotImage(source.id), world.snapshotImage(id));
      world.saveSnapshot({
        id,
        region,
        origin: 'copy',
        copyOf: source.id,
        volumeSizeGiB: source.volumeSizeGiB,
        tags: snapshotTags(input),
        description: input.Description ?? '',
        startTime: Date.now(),
        state: 'completed',
        ...world.pendingFields(),
      });
      return { SnapshotId: id };
    },

    /** The world has no instances: volumes are never attached. */
    DescribeInstances() {
      return { Reservations: [] };
    },

    /** Multi-volume snapshots of an instance: the world has none, so every instance is unknown. */
    CreateSnapshots(input) {
      throw new WorldError('ec2', 'InvalidInstanceID.NotFound', `The instance ID '${input.InstanceSpecification?.InstanceId}' does not exist`);
    },

    CreateVolume(input, region) {
      const s = world.snapshot(input.SnapshotId ?? '');
      if (!s || s.region !== region) throw snapshotNotFound(input.SnapshotId);
      const id = world.newId('vol');
      world.copyFileAtomic(world.snapshotImage(s.id), world.volumeImage(id));
      const tags = (input.TagSpecifications ?? []).filter((t) => t.ResourceType === 'volume').flatMap((t) => t.Tags ?? []);
      world.addVolume({ id, region, az: input.AvailabilityZone ?? `${region}a`, sizeGiB: input.Size ?? s.volumeSizeGiB, tags, fromSnapshot: s.id });
      return { VolumeId: id, SnapshotId: s.id, Size: s.volumeSizeGiB, State: 'creating' };
    },

    DeleteVolume(input, region) {
      const v = world.volume(input.VolumeId ?? '');
      if (!v || v.region !== region) throw new WorldError('ec2', 'InvalidVolume.NotFound', `The volume '${input.VolumeId}' does not exist.`);
      world.deleteVolume(v.id);
      return {};
    },
  };
}
