/**
 * Where a restore drill writes (`drill.target`): a scratch file in `scratchDir` (removed after
 * the drill), a device the operator gave for drills (checked, kept), or a scratch copy the volume
 * provider makes and deletes (AWS: a new EBS snapshot, optionally a volume). Before a policy's
 * drills run, scratch copies that earlier drills never deleted (their worker was killed) are
 * swept once they are older than `sweepAfter`.
 */
import { tmpdir } from 'node:os';
import { InvalidInputError, type Clock, type ScratchTarget, type SnapshotEntry, type VolumeProvider } from '@snapfleet/shared';
import { drillTarget, type FleetConfig, type PolicyConfig } from '@snapfleet/shared/config';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import { localScratchFile, localScratchFiles, openDrillDevice } from '@snapfleet/providers';

/**
 * A scratch copy nobody deleted is swept once it is this old: longer than any drill runs (a
 * drill's restore and read-back of a multi-TiB volume take hours, not most of a day).
 */
const DEFAULT_SWEEP_AFTER_MS = 6 * 3_600_000;

/** A policy's name and its drill section. */
export interface DrillPolicy {
  name: string;
  drill: NonNullable<PolicyConfig['drill']>;
}

export async function openScratch(policy: DrillPolicy, entry: SnapshotEntry, at: { config: FleetConfig; provider: VolumeProvider }): Promise<ScratchTarget> {
  const target = drillTarget(policy.drill.target);
  const sizeBytes = entry.snapshot.sizeBytes;
  if (target.kind === 'file') return localScratchFile(policy.drill.scratchDir ?? tmpdir(), sizeBytes);
  if (target.kind === 'device') {
    const volumes = Object.entries(at.config.volumes).map(([id, v]) => ({ id, path: v.path }));
    return openDrillDevice(target.device, { sizeBytes, volumes, field: `policies.${policy.name}.drill.target.device` });
  }
  const scratch = at.provider.scratch;
  if (!scratch)
    throw new InvalidInputError(
      `policies.${policy.name}.drill.target: the ${at.provider.kind} provider makes no scratch copies; use "file" or a device`,
      `policies.${policy.name}.drill.target`,
    );
  return scratch.create({
    sizeBytes,
    volumeId: entry.snapshot.volumeId,
    snapshotId: entry.id,
    policy: policy.name,
    ...(target.volumeIn !== undefined ? { volumeIn: target.volumeIn } : {}),
  });
}

/** Deletes scratch copies older than `sweepAfter` in the policy's scratch place; never fails the drill. */
export async function sweepScratch(policy: DrillPolicy, provider: VolumeProvider, clock: Clock, log: FleetLogger): Promise<void> {
  const target = drillTarget(policy.drill.target);
  const before = new Date(clock.now().getTime() - (policy.drill.sweepAfter ?? DEFAULT_SWEEP_AFTER_MS));
  const scratch = target.kind === 'file' ? localScratchFiles(policy.drill.scratchDir ?? tmpdir()) : target.kind === 'provider' ? provider.scratch : undefined;
  if (!scratch) return;
  try {
    const deleted = await scratch.sweep(before);
    if (deleted > 0) log.warn({ policy: policy.name, deleted }, 'deleted scratch copies that earlier drills left behind');
  } catch (err) {
    log.warn({ policy: policy.name, err: (err as Error).message }, 'could not look for scratch copies earlier drills left behind');
  }
}
