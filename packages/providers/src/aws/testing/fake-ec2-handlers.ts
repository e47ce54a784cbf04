/**
 * The EC2 commands of the fake world as aws-sdk-client-mock handlers of one region's client,
 * answering with EC2's shapes: describe pages with NextToken (empty pages too, when the world asks
 * for them), filters by id, tag, tag-key, volume-id and attachment, and EC2's error codes
 * (InvalidVolume.NotFound, InvalidSnapshot.NotFound, InvalidInstanceID.NotFound,
 * InvalidParameterValue, IncorrectState, and whatever fault a test injects).
 */
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  DeleteSnapshotCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2ServiceException,
  type EC2Client,
  type Filter,
  type Snapshot,
  type Tag,
  type TagSpecification,
} from '@aws-sdk/client-ec2';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { FAKE_ACCOUNT, type FakeEc2Command, type FakeEc2Snapshot, type FakeEc2State } from './fake-ec2-state.js';

function ec2Error(name: string, message: string, status = 400): EC2ServiceException {
  return new EC2ServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'fake-request-id' },
  });
}

type Tagged = { id: string; tags: Record<string, string> };

/** EC2 filter semantics: filters AND together, a filter's values OR together. */
function matches(filters: Filter[] | undefined, item: Tagged, fields: Record<string, readonly string[]>): boolean {
  for (const f of filters ?? []) {
    const values = f.Values ?? [];
    const name = f.Name ?? '';
    let ok: boolean;
    if (name.startsWith('tag:')) ok = values.includes(item.tags[name.slice(4)] ?? '\u0000absent');
    else if (name === 'tag-key') ok = values.some((k) => k in item.tags);
    else if (name in fields) ok = fields[name]!.some((v) => values.includes(v));
    else throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    if (!ok) return false;
  }
  return true;
}

function toTags(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function fromSpecs(specs: TagSpecification[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== 'snapshot')
      throw ec2Error('InvalidParameterValue', `'${spec.ResourceType}' is not a valid taggable resource type for this operation.`);
    for (const t of spec.Tags ?? []) out[t.Key!] = t.Value ?? '';
  }
  return out;
}

/** A page of `items` after `token`; the token encodes the offset and the empty pages still due. */
function page<T>(world: FakeEc2State, items: T[], token: string | undefined, maxResults: number | undefined): { items: T[]; NextToken?: string | undefined } {
  const state = token ? (JSON.parse(Buffer.from(token, 'base64').toString()) as { at: number; empty: number }) : { at: 0, empty: world.emptyPages };
  const encode = (at: number, empty: number) => Buffer.from(JSON.stringify({ at, empty })).toString('base64');
  if (state.empty > 0 && state.at < items.length) return { items: [], NextToken: encode(state.at, state.empty - 1) };
  const size = Math.min(world.pageSize, maxResults ?? Infinity);
  const end = state.at + size;
  return { items: items.slice(state.at, end), ...(end < items.length ? { NextToken: encode(end, world.emptyPages) } : {}) };
}

function snapshotShape(s: FakeEc2Snapshot): Snapshot {
  return {
    SnapshotId: s.id,
    VolumeId: s.volumeId,
    State: s.state,
    StartTime: s.startTime,
    VolumeSize: s.volumeSizeGiB,
    OwnerId: FAKE_ACCOUNT,
    Description: s.description,
    Encrypted: s.encrypted,
    ...(s.kmsKeyId ? { KmsKeyId: s.kmsKeyId } : {}),
    Progress: s.state === 'completed' ? '100%' : '0%',
    Tags: toTags(s.tags),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one handler function per command, each with its own input type
type Handler = (input: any) => unknown;

export function installFakeEc2Handlers(stub: AwsClientStub<EC2Client>, world: FakeEc2State, region: string): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- command classes differ in input type
  const on = (command: FakeEc2Command, ctor: any, handler: Handler) =>
    stub.on(ctor).callsFake(async (input: Record<string, unknown>) => {
      const fault = world.takeFault(command);
      if (fault?.mode === 'hang') return new Promise(() => {});
      if (fault?.mode === 'refuse') throw ec2Error(fault.name, `injected ${fault.name}`, fault.status);
      const result = handler(input);
      if (fault?.mode === 'lose') throw ec2Error(fault.name, `injected ${fault.name} after the request was carried out`, fault.status);
      return result;
    });

  on('DescribeVolumes', DescribeVolumesCommand, (input) => {
    if (input.VolumeIds && input.MaxResults)
      throw ec2Error('InvalidParameterCombination', 'The parameter volumeSet cannot be used with the parameter maxResults');
    const all = [...world.volumes.values()].filter((v) => v.region === region && v.state !== 'deleted').sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const id of (input.VolumeIds as string[] | undefined) ?? []) {
      if (!all.some((v) => v.id === id)) throw ec2Error('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
    }
    const found = all.filter(
      (v) =>
        (!input.VolumeIds || input.VolumeIds.includes(v.id)) &&
        matches(input.Filters, v, { 'volume-id': [v.id], 'attachment.instance-id': v.attachments, status: [v.state] }),
    );
    const p = input.VolumeIds ? { items: found } : page(world, found, input.NextToken, input.MaxResults);
    return {
      Volumes: p.items.map((v) => ({
        VolumeId: v.id,
        Size: v.sizeGiB,
        State: v.state,
        AvailabilityZone: `${region}a`,
        VolumeType: 'gp3',
        Tags: toTags(v.tags),
        Attachments: v.attachments.map((i) => ({
          InstanceId: i,
          VolumeId: v.id,
          State: 'attached',
          Device: world.instances.get(i)?.rootVolumeId === v.id ? '/dev/xvda' : '/dev/xvdf',
        })),
      })),
      ...(p.NextToken ? { NextToken: p.NextToken } : {}),
    };
  });

  on('DescribeInstances', DescribeInstancesCommand, (input) => {
    const all = [...world.instances.values()].filter((i) => i.region === region).sort((a, b) => (a.id < b.id ? -1 : 1));
    const found = all.filter((i) => matches(input.Filters, { id: i.id, tags: {} }, { 'instance-id': [i.id] }));
    const p = page(world, found, input.NextToken, input.MaxResults);
    return {
      Reservations: p.items.map((i) => ({
        ReservationId: `r-${i.id.slice(2)}`,
        OwnerId: FAKE_ACCOUNT,
        Instances: [
          {
            InstanceId: i.id,
            State: { Name: i.state, Code: i.state === 'running' ? 16 : i.state === 'stopped' ? 80 : 48 },
            RootDeviceName: '/dev/xvda',
            BlockDeviceMappings: i.volumeIds.map((v) => ({
              DeviceName: v === i.rootVolumeId ? '/dev/xvda' : `/dev/xvd${String.fromCharCode(102 + i.volumeIds.indexOf(v))}`,
              Ebs: { VolumeId: v, Status: 'attached' },
            })),
          },
        ],
      })),
      ...(p.NextToken ? { NextToken: p.NextToken } : {}),
    };
  });

  on('DescribeSnapshots', DescribeSnapshotsCommand, (input) => {
    if (input.SnapshotIds && input.MaxResults)
      throw ec2Error('InvalidParameterCombination', 'The parameter snapshotSet cannot be used with the parameter maxResults');
    const live = world.liveSnapshots().filter((s) => s.region === region);
    const ids = input.SnapshotIds as string[] | undefined;
    for (const id of ids ?? []) {
      if (!live.some((x) => x.id === id)) throw ec2Error('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
    }
    const found = live
      .filter((s) => (!ids || ids.includes(s.id)) && matches(input.Filters, s, { 'volume-id': [s.volumeId], 'snapshot-id': [s.id], status: [s.state] }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    // Asked by id, EC2 answers in one response: there is no MaxResults to page by.
    const p = ids ? { items: found } : page(world, found, input.NextToken, input.MaxResults);
    const answer = { Snapshots: p.items.map(snapshotShape), ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
    // Each answer a pending snapshot appears in moves it on: "pending for n polls".
    for (const s of p.items) {
      if (s.state === 'pending' && --s.pollsLeft <= 0) {
        s.state = 'completed';
        world.syncEbs(s);
      }
    }
    return answer;
  });

  on('CreateSnapshot', CreateSnapshotCommand, (input) => {
    const volume = world.volumes.get(input.VolumeId);
    if (!volume || volume.region !== region || volume.state === 'deleted')
      throw ec2Error('InvalidVolume.NotFound', `The volume '${input.VolumeId}' does not exist.`);
    return snapshotShape(world.makeSnapshot(region, volume, fromSpecs(input.TagSpecifications), input.Description ?? ''));
  });

  on('CreateSnapshots', CreateSnapshotsCommand, (input) => {
    const spec = input.InstanceSpecification ?? {};
    const instance = world.instances.get(spec.InstanceId);
    if (!instance || instance.region !== region) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${spec.InstanceId}' does not exist`);
    const exclude = new Set<string>(spec.ExcludeDataVolumeIds ?? []);
    if (instance.rootVolumeId && exclude.has(instance.rootVolumeId))
      throw ec2Error('InvalidParameterValue', 'The root volume cannot be excluded with ExcludeDataVolumeIds; use ExcludeBootVolume');
    const tags = fromSpecs(input.TagSpecifications);
    const made = instance.volumeIds
      .filter((v) => !exclude.has(v) && !(spec.ExcludeBootVolume && v === instance.rootVolumeId))
      .map((v) => world.makeSnapshot(region, world.volumes.get(v), tags, input.Description ?? ''));
    return {
      Snapshots: made.map((s) => ({
        SnapshotId: s.id,
        VolumeId: s.volumeId,
        State: s.state,
        StartTime: s.startTime,
        VolumeSize: s.volumeSizeGiB,
        OwnerId: FAKE_ACCOUNT,
        Tags: toTags(s.tags),
        Description: s.description,
      })),
    };
  });

  on('CopySnapshot', CopySnapshotCommand, (input) => {
    const source = world.snapshots.get(input.SourceSnapshotId);
    if (!source || source.deleted || source.region !== input.SourceRegion)
      throw ec2Error('InvalidSnapshot.NotFound', `The snapshot '${input.SourceSnapshotId}' does not exist.`);
    if (source.state !== 'completed') throw ec2Error('IncorrectState', `Snapshot '${source.id}' is not in a completed state`);
    const copy = world.makeSnapshot(region, undefined, fromSpecs(input.TagSpecifications), input.Description ?? '', source);
    copy.encrypted = input.Encrypted === true || source.encrypted;
    if (input.KmsKeyId) copy.kmsKeyId = input.KmsKeyId;
    return { SnapshotId: copy.id };
  });

  on('DeleteSnapshot', DeleteSnapshotCommand, (input) => {
    const s = world.snapshots.get(input.SnapshotId);
    if (!s || s.deleted || s.region !== region) throw ec2Error('InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotId}' does not exist.`);
    s.deleted = true;
    world.syncEbs(s);
    return {};
  });
}
