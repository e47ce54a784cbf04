/**
 * Scratch copies for restore drills on AWS (`drill.target: provider`): a drill restores into a new
 * EBS snapshot written through the EBS direct APIs (EbsSnapshotTarget), in the drilled volume's
 * region, reads it back through EbsSnapshotSource, and, with `volumeIn`, also creates a volume of
 * it and waits until EBS reports it available. dispose() deletes the volume and the snapshot,
 * whatever happened before. Everything created is tagged (ec2-scratch-resources.ts), so
 * sweep() finds what a killed worker left behind, and EBS itself cancels a snapshot that was
 * never completed after StartSnapshot's timeout.
 */
import { randomUUID } from 'node:crypto';
import { PermanentError, TransientError, type ScratchRequest, type ScratchTarget, type ScratchTargets, type VolumeSource } from '@snapfleet/shared';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import type { EbsApi } from './ebs-api.js';
import { ec2RestoreVolume } from './ebs-restore-volume.js';
import { ec2SnapshotLookup } from './ebs-snapshot-lookup.js';
import { EbsSnapshotSource } from './ebs-snapshot-source.js';
import { EbsSnapshotTarget } from './ebs-snapshot-target.js';
import type { Ec2Api } from './ec2-api.js';
import {
  deleteScratchResource,
  deleteScratchVolume,
  DRILL_ID_TAG,
  DRILL_SOURCE,
  DRILL_STARTED_TAG,
  listScratchResources,
  SOURCE_TAG,
  waitUntilVolumeAvailable,
} from './ec2-scratch-resources.js';

/**
 * Minutes without a written block after which EBS cancels an unfinished scratch snapshot: a
 * drill writes continuously, so an hour of silence means its worker is gone.
 */
const SCRATCH_SNAPSHOT_TIMEOUT_MINUTES = 60;
/** EBS makes a volume of a snapshot in seconds to minutes; poll gently, give up after 30 minutes. */
const VOLUME_POLL_MS = 5_000;
const VOLUME_MAX_WAIT_MS = 30 * 60_000;
/** A completed snapshot is readable at once through the EBS direct APIs; EC2 may lag a little. */
const SNAPSHOT_POLL_MS = 2_000;

export interface EbsScratchOptions {
  ec2: Ec2Api;
  ebsApi: (region: string) => EbsApi;
  regions: readonly string[];
  /** The drilled volume's region; undefined when it is unknown (a deleted volume): the first region. */
  regionOf: (volumeId: string) => Promise<string | undefined>;
  log?: Pick<FleetLogger, 'warn'>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Between DescribeVolumes polls while a scratch volume is created. @defaultValue 5 s */
  volumePollMs?: number;
  /** Between DescribeSnapshots polls until the scratch snapshot completes. @defaultValue 2 s */
  snapshotPollMs?: number;
  /** Encrypt scratch copies (the provider's `restore` settings, as restores into EBS). @defaultValue false */
  encrypted?: boolean;
  /** The KMS key per region to encrypt with (implies `encrypted`). */
  kmsKeyArns?: Readonly<Record<string, string>>;
}

export function ebsScratchTargets(options: EbsScratchOptions): ScratchTargets {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return {
    async create(request) {
      const region = (await options.regionOf(request.volumeId)) ?? options.regions[0]!;
      return scratchCopy(options, region, request, now, sleep);
    },
    async sweep(before) {
      let deleted = 0;
      for (const region of options.regions) {
        const found = await listScratchResources(options.ec2, region);
        // Volumes first: a snapshot is deleted after the volumes made of it, as dispose() does.
        const stale = found.filter((r) => r.startedAt && r.startedAt < before).sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'volume' ? -1 : 1));
        for (const r of stale) {
          try {
            await deleteScratchResource(options.ec2, region, r);
            deleted++;
          } catch (err) {
            options.log?.warn(
              { region, id: r.id, err: (err as Error).message },
              `could not delete the drill's scratch ${r.kind} ${r.id}; the next sweep tries again`,
            );
          }
        }
      }
      return deleted;
    },
  };
}

function scratchCopy(
  options: EbsScratchOptions,
  region: string,
  request: ScratchRequest,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
): ScratchTarget {
  const drillId = randomUUID();
  const tags = {
    [SOURCE_TAG]: DRILL_SOURCE,
    [DRILL_ID_TAG]: drillId,
    [DRILL_STARTED_TAG]: new Date(now()).toISOString(),
    'snapfleet:restored-from': request.snapshotId,
    'snapfleet:volume-id': request.volumeId,
    'snapfleet:drill-policy': request.policy,
  };
  const { ec2 } = options;
  const restoreEc2 = ec2RestoreVolume(ec2, region, { volumeTags: tags, pollMs: options.snapshotPollMs ?? SNAPSHOT_POLL_MS, sleep, now });
  const target = new EbsSnapshotTarget({
    api: options.ebsApi(region),
    ec2: restoreEc2,
    clientToken: drillId,
    description: `snapfleet restore drill of ${request.volumeId} snapshot ${request.snapshotId.slice(0, 8)} (deleted after the drill)`,
    tags,
    timeoutMinutes: SCRATCH_SNAPSHOT_TIMEOUT_MINUTES,
    // A scratch copy holds the volume's data: encrypted as the provider's restores are.
    ...(options.encrypted || options.kmsKeyArns?.[region] ? { encrypted: true } : {}),
    ...(options.kmsKeyArns?.[region] ? { kmsKeyArn: options.kmsKeyArns[region] } : {}),
    ...(request.volumeIn !== undefined ? { availabilityZone: request.volumeIn } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const opened = () => {
    try {
      return target.result;
    } catch {
      return undefined; // never opened: nothing was created
    }
  };
  let disposed: Promise<void> | undefined;
  return {
    target,
    async readBack(): Promise<VolumeSource> {
      const { snapshotId, volumeId } = target.result;
      if (volumeId) {
        await waitUntilVolumeAvailable(ec2, region, volumeId, { pollMs: options.volumePollMs ?? VOLUME_POLL_MS, maxWaitMs: VOLUME_MAX_WAIT_MS, sleep, now });
      } else {
        await restoreEc2.waitUntilCompleted(snapshotId);
      }
      return EbsSnapshotSource.open({
        api: options.ebsApi(region),
        snapshotId,
        describeSnapshot: ec2SnapshotLookup(ec2, region),
        sizeBytes: request.sizeBytes,
      });
    },
    dispose() {
      disposed ??= (async () => {
        await target.abort(); // an unfinished snapshot is deleted there; later states are ours to delete
        const made = opened();
        if (!made) return;
        // By tag as well as by id: a volume whose CreateVolume answer was lost is found too.
        const tagged = await listScratchResources(ec2, region, drillId).catch(() => []);
        const volumes = new Set([...(made.volumeId ? [made.volumeId] : []), ...tagged.filter((r) => r.kind === 'volume').map((r) => r.id)]);
        const left: string[] = [];
        for (const volumeId of volumes) {
          try {
            await deleteWhenSettled(ec2, region, volumeId, sleep, options.volumePollMs ?? VOLUME_POLL_MS);
          } catch (err) {
            left.push(`volume ${volumeId} (${(err as Error).message})`);
          }
        }
        try {
          await deleteScratchResource(ec2, region, { kind: 'snapshot', id: made.snapshotId });
        } catch (err) {
          left.push(`snapshot ${made.snapshotId} (${(err as Error).message})`);
        }
        if (left.length)
          throw new PermanentError(
            `the drill's scratch copy in ${region} was not deleted: ${left.join('; ')}; tagged ${SOURCE_TAG}=${DRILL_SOURCE}, the next drill's sweep deletes it`,
          );
      })();
      return disposed;
    },
  };
}

/** A volume still being created cannot be deleted: wait a few polls for it to settle. */
async function deleteWhenSettled(ec2: Ec2Api, region: string, volumeId: string, sleep: (ms: number) => Promise<void>, pollMs: number): Promise<void> {
  const ATTEMPTS = 12; // a minute at the default 5 s poll: EBS settles a new volume within that
  for (let attempt = 1; ; attempt++) {
    try {
      return await deleteScratchVolume(ec2, region, volumeId);
    } catch (err) {
      if (attempt >= ATTEMPTS || !(err instanceof TransientError)) throw err;
      await sleep(pollMs);
    }
  }
}
