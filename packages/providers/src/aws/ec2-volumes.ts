/**
 * Finding EBS volumes: DescribeVolumes with server-side filters for what EC2 can filter on (ids,
 * tags, attached instances), then the selector checked again client-side (EC2 filters cannot say
 * "name matches a glob", and repeated tag keys need it), across every configured region.
 * Instance sets go through DescribeInstances first, for the volumes attached to each instance.
 */
import { DescribeInstancesCommand, DescribeVolumesCommand, type Filter, type Tag, type Volume } from '@aws-sdk/client-ec2';
import { NotFoundError, type DiscoveredVolume, type VolumeSelectorSpec } from '@snapfleet/shared';
import { globMatches } from '@snapfleet/shared/config';
import { ec2Send, type Ec2Api } from './ec2-api.js';
import { allPages, EC2_PAGE_SIZE } from './ec2-pages.js';
import { selectorTagFilters, selectorTagMatches, tagValue, volumeTags } from './ec2-tags.js';

/** EC2 accepts at most 200 values in one filter; longer id lists are asked in chunks. */
const FILTER_VALUES_MAX = 200;
/** EBS sizes volumes in whole GiB. */
const GIB = 1024 ** 3;
/** Volumes that can be snapshotted; `creating`, `deleting` and `error` ones cannot. */
const USABLE_STATES = new Set(['available', 'in-use']);

export interface Ec2Volume extends DiscoveredVolume {
  region: string;
  instanceIds: string[];
  /** The volume's EC2 tags, for selector checks. */
  ec2Tags: Tag[];
}

export interface Ec2Instance {
  instanceId: string;
  region: string;
  /** Attached EBS volumes by id; `root` is the boot volume (CreateSnapshots treats it apart). */
  volumeIds: string[];
  rootVolumeId?: string;
}

export function toEc2Volume(v: Volume, region: string): Ec2Volume {
  const id = v.VolumeId ?? '';
  return {
    id,
    name: tagValue(v.Tags, 'Name') || id,
    tags: volumeTags(v.Tags),
    sizeBytes: (v.Size ?? 0) * GIB,
    instanceIds: [...new Set((v.Attachments ?? []).map((a) => a.InstanceId).filter((i): i is string => !!i))].sort(),
    region,
    ec2Tags: v.Tags ?? [],
  };
}

/** Every volume of `region` the filters let through (all pages). */
export async function describeVolumes(api: Ec2Api, region: string, filters: Filter[], what = 'DescribeVolumes'): Promise<Ec2Volume[]> {
  const volumes = await allPages(async (NextToken) => {
    const out = await ec2Send(api, region, 'describe', what, (client, abortSignal) =>
      client.send(new DescribeVolumesCommand({ Filters: filters.length ? filters : undefined, MaxResults: EC2_PAGE_SIZE, NextToken }), { abortSignal }),
    );
    return { items: out.Volumes, nextToken: out.NextToken };
  });
  return volumes.filter((v) => USABLE_STATES.has(v.State ?? '')).map((v) => toEc2Volume(v, region));
}

/**
 * Volumes of `region` with one of `ids`, in chunks of FILTER_VALUES_MAX. Asked by `VolumeIds`: EC2
 * looks those up directly, one call per chunk, while a `volume-id` filter is applied page by page
 * after reading, so a filtered lookup of one volume pages through every volume of the region (a
 * call per page: 4 calls per lookup in a region of 2,000 volumes). `VolumeIds` fails the whole
 * call when one id is unknown in this region (another region's volume, a deleted one); that
 * chunk is then asked again by filter, which passes over unknown ids.
 */
export async function describeVolumesById(api: Ec2Api, region: string, ids: readonly string[], extra: Filter[] = []): Promise<Ec2Volume[]> {
  const out: Ec2Volume[] = [];
  for (let i = 0; i < ids.length; i += FILTER_VALUES_MAX) {
    const chunk = ids.slice(i, i + FILTER_VALUES_MAX);
    const what = `DescribeVolumes ${chunk.join(',')}`;
    try {
      const res = await ec2Send(api, region, 'describe', what, (client, abortSignal) =>
        client.send(new DescribeVolumesCommand({ VolumeIds: [...chunk], Filters: extra.length ? extra : undefined }), { abortSignal }),
      );
      out.push(...(res.Volumes ?? []).filter((v) => USABLE_STATES.has(v.State ?? '')).map((v) => toEc2Volume(v, region)));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      // One unknown id: a single-id chunk is simply not here; a longer one is asked by filter.
      if (chunk.length > 1) out.push(...(await describeVolumes(api, region, [{ Name: 'volume-id', Values: chunk }, ...extra], what)));
    }
  }
  return out;
}

/** The instances of `region` among `instanceIds` with their attached EBS volumes (all pages). */
export async function describeInstances(api: Ec2Api, region: string, instanceIds: readonly string[]): Promise<Ec2Instance[]> {
  const out: Ec2Instance[] = [];
  for (let i = 0; i < instanceIds.length; i += FILTER_VALUES_MAX) {
    const chunk = instanceIds.slice(i, i + FILTER_VALUES_MAX);
    // A filter, not InstanceIds: InstanceIds fails the whole call when one id is unknown here,
    // and every region but one does not know it.
    const reservations = await allPages(async (NextToken) => {
      const res = await ec2Send(api, region, 'describe', `DescribeInstances ${chunk.join(',')}`, (client, abortSignal) =>
        client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: chunk }], MaxResults: 1000, NextToken }), { abortSignal }),
      );
      return { items: res.Reservations, nextToken: res.NextToken };
    });
    for (const instance of reservations.flatMap((r) => r.Instances ?? [])) {
      if (!instance.InstanceId || instance.State?.Name === 'terminated') continue;
      const mappings = instance.BlockDeviceMappings ?? [];
      const root = mappings.find((m) => m.DeviceName === instance.RootDeviceName)?.Ebs?.VolumeId;
      out.push({
        instanceId: instance.InstanceId,
        region,
        volumeIds: mappings
          .map((m) => m.Ebs?.VolumeId)
          .filter((v): v is string => !!v)
          .sort(),
        ...(root ? { rootVolumeId: root } : {}),
      });
    }
  }
  return out.sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
}

/** Whether the selector covers the volume: every given criterion must match (as selectorMatches). */
export function selectorCovers(selector: VolumeSelectorSpec, v: Ec2Volume): boolean {
  if (selector.ids && !selector.ids.includes(v.id)) return false;
  if (selector.tags && !selector.tags.every((t) => selectorTagMatches(t, v.ec2Tags))) return false;
  if (selector.namePattern && !globMatches(selector.namePattern, v.name)) return false;
  if (selector.instances && !selector.instances.some((i) => v.instanceIds.includes(i))) return false;
  return true;
}

/** The volumes of one region the selector covers. */
export async function discoverInRegion(api: Ec2Api, region: string, selector: VolumeSelectorSpec): Promise<Ec2Volume[]> {
  const tagFilters = selectorTagFilters(selector.tags);
  let found: Ec2Volume[];
  if (selector.instances) {
    const instances = await describeInstances(api, region, selector.instances);
    const ids = [...new Set(instances.flatMap((i) => i.volumeIds))];
    found = ids.length ? await describeVolumesById(api, region, ids, tagFilters) : [];
  } else if (selector.ids) {
    found = await describeVolumesById(api, region, selector.ids, tagFilters);
  } else {
    found = await describeVolumes(api, region, tagFilters);
  }
  return found.filter((v) => selectorCovers(selector, v));
}
