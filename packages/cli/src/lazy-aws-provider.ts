/**
 * The AWS provider, loaded on first use. Importing the EC2 and EBS SDK clients costs about
 * 100 MiB of resident memory and most of a second in every process that does it, and most runs
 * never call AWS (local volumes, `archive`, `restore` to a file), so no command imports
 * `@snapfleet/providers/aws` until a provider method is called.
 */
import type { ScratchTargets, SnapshotCopies, SnapshotRef, VolumeProvider } from '@snapfleet/shared';
import { copyTargetsOf, type AwsProviderConfig } from '@snapfleet/shared/config';
import type { AwsProviderDeps, LimiterMaker } from '@snapfleet/providers/aws';

export interface LazyAwsProviderOptions {
  makeLimiter: LimiterMaker;
  policies: AwsProviderDeps['policies'];
}

export function lazyAwsProvider(config: AwsProviderConfig, options: LazyAwsProviderOptions): VolumeProvider {
  let loaded: Promise<VolumeProvider> | undefined;
  const real = () =>
    (loaded ??= import('@snapfleet/providers/aws').then((aws) => {
      const limiters = aws.awsRateLimiters(config.limits, options.makeLimiter, config.regionLimits);
      return aws.createAwsVolumeProvider(config, { limiters, ...(options.policies ? { policies: options.policies } : {}) });
    }));
  const realCopies = async (): Promise<SnapshotCopies> => {
    const copies = (await real()).copies;
    if (!copies) throw new Error('the AWS provider has no copy targets although copies are configured');
    return copies;
  };
  // The copy targets are known from the config alone, so callers can see them without loading AWS.
  const copies: SnapshotCopies | undefined = config.copies.length
    ? {
        targets: copyTargetsOf(config.copies),
        copy: async (volumeId: string, ref: SnapshotRef, target: string) => (await realCopies()).copy(volumeId, ref, target),
        listCopies: async (volumeId, target, tags) => (await realCopies()).listCopies(volumeId, target, tags),
      }
    : undefined;
  const realScratch = async (): Promise<ScratchTargets> => {
    const scratch = (await real()).scratch;
    if (!scratch) throw new Error('the AWS provider makes no scratch copies for drills');
    return scratch;
  };
  // The real provider always makes drill scratch copies (EBS snapshots through the direct APIs).
  const scratch: ScratchTargets = {
    create: async (request) => (await realScratch()).create(request),
    sweep: async (before) => (await realScratch()).sweep(before),
  };
  return {
    kind: 'aws',
    discover: async (selector) => (await real()).discover(selector),
    createSnapshot: async (volumeId, tags, token) => (await real()).createSnapshot(volumeId, tags, token),
    snapshotState: async (ref) => (await real()).snapshotState(ref),
    openSource: async (volumeId, ref) => (await real()).openSource(volumeId, ref),
    listSnapshots: async (volumeId, tags) => (await real()).listSnapshots(volumeId, tags),
    deleteSnapshot: async (ref) => (await real()).deleteSnapshot(ref),
    // Noted once the provider is loaded; the call that follows awaits the same load, after this
    // reaction (promise reactions run in order), so it sees the hint. A failed load is reported
    // by that call.
    noteRegion: (volumeId, region) =>
      void real().then(
        (p) => p.noteRegion?.(volumeId, region),
        () => {},
      ),
    ...(copies ? { copies } : {}),
    scratch,
  };
}
