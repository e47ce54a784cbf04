/**
 * The account's verdict on each request before the world sees it, as AWS's front door decides:
 * hold it into a client timeout, refuse it for a quota (token buckets per account and region, per
 * snapshot, one CreateSnapshot per volume per window), fail it with a 5xx, or run it. Faults are
 * drawn at random at the configured rates; `random` is injectable for tests.
 */
import { TokenBuckets } from './token-bucket.mjs';

const BLOCK_APIS = new Set(['GetSnapshotBlock', 'PutSnapshotBlock']);

/** The latency family (settings.latencyMs) of a call. */
export function familyOf(service, api) {
  if (service === 'ec2') return 'ec2';
  if (BLOCK_APIS.has(api)) return 'block';
  if (api === 'ListSnapshotBlocks' || api === 'ListChangedBlocks') return 'list';
  return 'control';
}

export function isBlockApi(api) {
  return BLOCK_APIS.has(api);
}

export function createAccountBehaviour(settings, random = Math.random, now = () => Date.now()) {
  const q = settings.quotas;
  const buckets = new Map();
  const bucket = (name) => {
    if (!q[name]) return undefined;
    if (!buckets.has(name)) buckets.set(name, new TokenBuckets(q[name]));
    return buckets.get(name);
  };
  const lastCreate = new Map();
  const faulty = (api) => !settings.faults.apis || settings.faults.apis.includes(api);
  const ebsAccount = settings.ebsAccountThrottle;

  /** The account bucket a call takes from, with the refusal it gets when that bucket is empty. */
  function accountQuota(service, api) {
    if (service === 'ec2') {
      const name = api.startsWith('Describe') ? 'ec2Describe' : 'ec2Mutate';
      return { name, refusal: { name: 'RequestLimitExceeded', message: 'Request limit exceeded.' } };
    }
    const name = BLOCK_APIS.has(api) ? api : familyOf('ebs', api) === 'list' ? 'ebsList' : 'ebsControl';
    return { name, refusal: { ...ebsAccount, message: `The ${api} request rate of the account exceeds its quota.` } };
  }

  return {
    /**
     * { kind: 'hold' } | { kind: 'throttle', name, reason?, message } | { kind: 'error' } | { kind: 'run' }
     */
    admit(service, api, input, region) {
      if (faulty(api) && random() < settings.faults.timeoutRate) return { kind: 'hold' };
      const account = accountQuota(service, api);
      if (bucket(account.name) && !bucket(account.name).take(`${account.name}:${region}`)) return { kind: 'throttle', ...account.refusal };
      if (BLOCK_APIS.has(api)) {
        if (bucket('perSnapshot') && !bucket('perSnapshot').take(`${region}:${input.SnapshotId}`)) {
          return {
            kind: 'throttle',
            name: 'RequestThrottledException',
            reason: 'RESOURCE_LEVEL_THROTTLE',
            message: `The request rate of snapshot ${input.SnapshotId} exceeds its quota.`,
          };
        }
        if (faulty(api) && random() < settings.faults.dependencyThrottleRate) {
          return {
            kind: 'throttle',
            name: 'RequestThrottledException',
            reason: 'DEPENDENCY_REQUEST_THROTTLED',
            message: 'A service EBS depends on throttled the request.',
          };
        }
      }
      if (service === 'ec2' && api === 'CreateSnapshot' && settings.perVolumeSnapshotWindowMs > 0) {
        const key = `${region}:${input.VolumeId}`;
        const t = now();
        if (t - (lastCreate.get(key) ?? -Infinity) < settings.perVolumeSnapshotWindowMs) {
          return {
            kind: 'throttle',
            name: 'SnapshotCreationPerVolumeRateExceeded',
            message: 'The maximum per volume CreateSnapshot request rate has been exceeded. Use an increasing or variable sleep interval between requests.',
          };
        }
        lastCreate.set(key, t);
      }
      if (faulty(api) && random() < settings.faults.errorRate) return { kind: 'error' };
      return { kind: 'run' };
    },

    /** A latency for `family` in ms, uniform in its configured range. */
    latencyMs(family) {
      const [min, max] = settings.latencyMs[family];
      return min + random() * (max - min);
    },
  };
}
