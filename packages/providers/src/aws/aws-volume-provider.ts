/**
 * AwsVolumeProvider: EBS volumes as the fleet's volumes. Discovery and snapshots go through EC2
 * (one client per region, every call through callAws under the `ec2:<account>:<region>` limiter);
 * archives read snapshots through the EBS direct APIs (`openSnapshot`, EbsSnapshotSource).
 *
 * Volume ids stay EBS ids (vol-…). The worker that snapshots a volume may never have run discover,
 * so a volume's region is looked up on first use (one DescribeVolumes per region until found) and
 * remembered; refs carry their region (aws-snapshot-ref.ts). Idempotency and instance sets are
 * explained in ec2-snapshots.ts and ec2-instance-sets.ts; copies in ec2-snapshot-copies.ts.
 */
import {
  InvalidInputError,
  NotFoundError,
  PermanentError,
  TransientError,
  type Clock,
  type DiscoveredVolume,
  type ProviderSnapshot,
  type ScratchTargets,
  type SnapshotCopies,
  type SnapshotRef,
  type SnapshotState,
  type VolumeProvider,
  type VolumeSelectorSpec,
  type VolumeSource,
} from '@snapfleet/shared';
import { copyTargetsOf } from '@snapfleet/shared/config';
import { timeFromSlot } from '@snapfleet/shared/jobs';
import { parseAwsRef, setRef, snapshotRef } from './aws-snapshot-ref.js';
import type { EbsApi } from './ebs-api.js';
import { ebsScratchTargets, type EbsScratchOptions } from './ebs-scratch-targets.js';
import type { Ec2Api } from './ec2-api.js';
import { ensureInstanceSet, findSetSnapshot, instanceSetToken, SET_LEADER_GRACE_MS, setLeader } from './ec2-instance-sets.js';
import { copySnapshotTo, listCopiesIn } from './ec2-snapshot-copies.js';
import { createVolumeSnapshot, deleteSnapshotIn, describeOwnSnapshots, describeSnapshot, fleetState, toProviderSnapshot } from './ec2-snapshots.js';
import { snapshotTagFilters } from './ec2-tags.js';
import { describeInstances, describeVolumesById, discoverInRegion, selectorCovers, type Ec2Volume } from './ec2-volumes.js';

export interface AwsCopyTarget {
  region: string;
  kmsKeyId: string;
}

export interface AwsVolumeProviderOptions {
  ec2: Ec2Api;
  /** Regions whose volumes are discovered and snapshotted. */
  regions: readonly string[];
  /** The policies' selectors by name: a policy with `instances` snapshots instance sets. */
  policies?: ReadonlyArray<{ name: string; selector: VolumeSelectorSpec }>;
  /** Disaster-recovery regions. */
  copies?: readonly AwsCopyTarget[];
  /** Opens a completed snapshot for reading (EbsSnapshotSource over the EBS direct APIs). */
  openSnapshot(region: string, snapshotId: string, volumeId: string): Promise<VolumeSource>;
  /** For the instance-set grace period. @defaultValue the system clock */
  clock?: Clock;
  /**
   * The EBS direct APIs of a region: given, the provider makes scratch copies for restore drills
   * (ebs-scratch-targets.ts). `scratch` tunes them (tests: no waiting).
   */
  ebsApi?: (region: string) => EbsApi;
  scratch?: Partial<Pick<EbsScratchOptions, 'log' | 'now' | 'sleep' | 'volumePollMs' | 'snapshotPollMs' | 'encrypted' | 'kmsKeyArns'>>;
}

const VOLUME_ID = /^vol-[0-9a-f]{8,17}$/;

export class AwsVolumeProvider implements VolumeProvider {
  readonly kind = 'aws';
  readonly copies?: SnapshotCopies;
  readonly scratch?: ScratchTargets;
  private readonly regionOf = new Map<string, string>();

  constructor(private readonly options: AwsVolumeProviderOptions) {
    if (options.regions.length === 0) throw new InvalidInputError('the AWS provider needs at least one region', 'regions');
    const targets = options.copies ?? [];
    if (targets.length) {
      this.copies = {
        targets: copyTargetsOf(targets),
        copy: (volumeId, ref, target) => this.copy(volumeId, ref, target),
        listCopies: (volumeId, target, tags) => listCopiesIn(this.options.ec2, this.copyTarget(target).region, volumeId, tags),
      };
    }
    if (options.ebsApi) {
      this.scratch = ebsScratchTargets({
        ...options.scratch,
        ec2: options.ec2,
        ebsApi: options.ebsApi,
        regions: options.regions,
        // A drilled volume deleted since its snapshot: its copy goes to the first region.
        regionOf: (volumeId) =>
          this.locate(volumeId).then(
            (v) => v.region,
            (err: unknown) => {
              if (err instanceof NotFoundError || err instanceof InvalidInputError) return undefined;
              throw err;
            },
          ),
      });
    }
  }

  async discover(selector: VolumeSelectorSpec): Promise<DiscoveredVolume[]> {
    const byId = new Map<string, DiscoveredVolume>();
    for (const region of this.options.regions) {
      for (const v of await discoverInRegion(this.options.ec2, region, selector)) {
        this.regionOf.set(v.id, region);
        byId.set(v.id, { id: v.id, name: v.name, tags: v.tags, sizeBytes: v.sizeBytes, instanceIds: v.instanceIds, region });
      }
    }
    return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  noteRegion(volumeId: string, region: string): void {
    // Only a region this provider covers: a stale payload cannot send calls anywhere else.
    if (this.options.regions.includes(region)) this.regionOf.set(volumeId, region);
  }

  async createSnapshot(volumeId: string, tags: readonly string[], clientToken: string): Promise<SnapshotRef> {
    if (!clientToken) throw new InvalidInputError('client token must not be empty', 'clientToken');
    const volume = await this.locate(volumeId);
    const setRefOrUndefined = await this.instanceSetSnapshot(volume, tags);
    if (setRefOrUndefined) return setRefOrUndefined;
    return snapshotRef(volume.region, await createVolumeSnapshot(this.options.ec2, volume.region, volumeId, tags, clientToken));
  }

  async snapshotState(ref: SnapshotRef): Promise<SnapshotState> {
    const parsed = parseAwsRef(ref);
    if (parsed.kind === 'snapshot') {
      const s = await describeSnapshot(this.options.ec2, parsed.region, parsed.snapshotId);
      if (!s) throw new NotFoundError(`EBS snapshot ${parsed.snapshotId} in ${parsed.region} does not exist (deleted?)`);
      return fleetState(s.State);
    }
    const s = await findSetSnapshot(this.options.ec2, parsed.region, parsed.setToken, parsed.volumeId);
    if (s) return fleetState(s.State);
    this.checkSetGrace(parsed.setToken, parsed.volumeId);
    return 'pending';
  }

  async openSource(volumeId: string, ref: SnapshotRef): Promise<VolumeSource> {
    const { region, snapshotId } = await this.resolve(ref);
    return this.options.openSnapshot(region, snapshotId, volumeId);
  }

  async listSnapshots(volumeId: string, tags: readonly string[]): Promise<ProviderSnapshot[]> {
    checkVolumeId(volumeId);
    // A deleted volume's snapshots still need retention: without a known region, ask them all.
    const known = this.regionOf.get(volumeId);
    const regions = known ? [known] : this.options.regions;
    const out: ProviderSnapshot[] = [];
    for (const region of regions) {
      // volume-id, not a tag: set snapshots carry one tag set for all their volumes.
      const filters = [{ Name: 'volume-id', Values: [volumeId] }, { Name: 'tag-key', Values: ['snapfleet:policy'] }, ...snapshotTagFilters(tags)];
      const found = await describeOwnSnapshots(this.options.ec2, region, filters, `DescribeSnapshots of ${volumeId}`);
      out.push(...found.map((s) => toProviderSnapshot(s, region, volumeId)).filter((s) => tags.every((t) => s.tags.includes(t))));
    }
    return out.sort((a, b) => a.time.getTime() - b.time.getTime() || (a.ref < b.ref ? -1 : 1));
  }

  async deleteSnapshot(ref: SnapshotRef): Promise<void> {
    const parsed = parseAwsRef(ref);
    if (parsed.kind === 'snapshot') return deleteSnapshotIn(this.options.ec2, parsed.region, parsed.snapshotId);
    const s = await findSetSnapshot(this.options.ec2, parsed.region, parsed.setToken, parsed.volumeId);
    if (s?.SnapshotId) await deleteSnapshotIn(this.options.ec2, parsed.region, s.SnapshotId);
  }

  /** The volume with its region: remembered from discover, else looked up region by region. */
  private async locate(volumeId: string): Promise<Ec2Volume> {
    checkVolumeId(volumeId);
    const known = this.regionOf.get(volumeId);
    const regions = known ? [known, ...this.options.regions.filter((r) => r !== known)] : this.options.regions;
    for (const region of regions) {
      const [found] = await describeVolumesById(this.options.ec2, region, [volumeId]);
      if (found) {
        this.regionOf.set(volumeId, region);
        return found;
      }
    }
    throw new NotFoundError(`EBS volume ${volumeId} was not found (or is not usable) in ${this.options.regions.join(', ')}`);
  }

  /**
   * For a volume of an instance-set policy: ensures the set when this volume leads it, and returns
   * the volume's set ref. Undefined when the policy snapshots volumes one by one.
   */
  private async instanceSetSnapshot(volume: Ec2Volume, tags: readonly string[]): Promise<SnapshotRef | undefined> {
    const policyName = tagField(tags, 'policy');
    const slot = tagField(tags, 'slot');
    const policy = this.options.policies?.find((p) => p.name === policyName);
    const instanceId = policy?.selector.instances?.find((i) => volume.instanceIds.includes(i));
    if (!policy || !slot || !instanceId) return undefined;
    const [instance] = await describeInstances(this.options.ec2, volume.region, [instanceId]);
    if (!instance) return undefined; // terminated meanwhile: snapshot the volume on its own
    const attached = await describeVolumesById(this.options.ec2, volume.region, instance.volumeIds);
    const covered = attached.filter((v) => selectorCovers(policy.selector, v)).map((v) => v.id);
    if (!covered.includes(volume.id)) return undefined;
    const token = instanceSetToken(policy.name, instanceId, slot);
    if (setLeader(covered) === volume.id) await ensureInstanceSet(this.options.ec2, instance, covered, tags, token);
    return setRef(volume.region, volume.id, token);
  }

  private checkSetGrace(setToken: string, volumeId: string): void {
    const slot = setToken.slice(setToken.lastIndexOf('/') + 1);
    const now = (this.options.clock?.now() ?? new Date()).getTime();
    if (now - timeFromSlot(slot).getTime() > SET_LEADER_GRACE_MS) {
      throw new PermanentError(
        `instance set ${setToken} has no snapshot of ${volumeId} an hour after its slot: the job of its leading volume did not create it`,
      );
    }
  }

  private async resolve(ref: SnapshotRef): Promise<{ region: string; snapshotId: string }> {
    const parsed = parseAwsRef(ref);
    if (parsed.kind === 'snapshot') return parsed;
    const s = await findSetSnapshot(this.options.ec2, parsed.region, parsed.setToken, parsed.volumeId);
    if (!s?.SnapshotId) throw new TransientError(`instance set ${parsed.setToken} has no snapshot of ${parsed.volumeId} yet`);
    return { region: parsed.region, snapshotId: s.SnapshotId };
  }

  private copyTarget(region: string): AwsCopyTarget {
    const target = this.options.copies?.find((c) => c.region === region);
    if (!target) throw new InvalidInputError(`${region} is not a configured copy region`, 'target');
    return target;
  }

  private async copy(volumeId: string, ref: SnapshotRef, target: string): Promise<SnapshotRef> {
    const dest = this.copyTarget(target);
    const { region, snapshotId } = await this.resolve(ref);
    // A volume of the copy region itself: its snapshot is already there, and a copy is no
    // protection against losing that region.
    if (region === dest.region) return snapshotRef(region, snapshotId);
    return copySnapshotTo(this.options.ec2, region, snapshotId, volumeId, dest);
  }
}

function checkVolumeId(volumeId: string): void {
  if (!VOLUME_ID.test(volumeId)) throw new InvalidInputError(`${JSON.stringify(volumeId)} is not an EBS volume id (vol-…)`, 'volumeId');
}

/** The value of an engine tag `name=value`. */
function tagField(tags: readonly string[], name: string): string | undefined {
  const t = tags.find((x) => x.startsWith(`${name}=`));
  return t?.slice(name.length + 1);
}
