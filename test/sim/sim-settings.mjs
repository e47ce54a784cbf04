/**
 * The account server's settings: how a real AWS account behaves under load. Every field has a
 * default; a JSON settings file (or object) overrides fields at any depth. Rates are requests per
 * second per account and region; a quota is a token bucket that holds `burst` tokens and refills
 * at `perSecond`, as EC2 documents its API throttling ("Request throttling for the Amazon EC2
 * API"). The defaults are the published or commonly observed values of a default account; a
 * benchmark sets its own.
 */

export const DEFAULT_SIM_SETTINGS = Object.freeze({
  /** Answer time per API family, uniform in [min, max] ms. */
  latencyMs: {
    /** GetSnapshotBlock and PutSnapshotBlock: one 512 KiB block. */
    block: [50, 150],
    /** ListSnapshotBlocks and ListChangedBlocks. */
    list: [20, 60],
    /** StartSnapshot and CompleteSnapshot. */
    control: [20, 60],
    /** Every EC2 call. */
    ec2: [10, 40],
    /** A throttled answer: refused at the front door, before any work. */
    throttled: [2, 10],
  },
  quotas: {
    /** EBS direct APIs: 1,000 GetSnapshotBlock and 1,000 PutSnapshotBlock per second per account. */
    GetSnapshotBlock: { perSecond: 1000, burst: 1000 },
    PutSnapshotBlock: { perSecond: 1000, burst: 1000 },
    /** ListSnapshotBlocks and ListChangedBlocks together: 50 per second. */
    ebsList: { perSecond: 50, burst: 50 },
    /** StartSnapshot and CompleteSnapshot together. */
    ebsControl: { perSecond: 10, burst: 10 },
    /**
     * Block requests (get and put) of one snapshot: RequestThrottledException with reason
     * RESOURCE_LEVEL_THROTTLE. null: no per-snapshot quota.
     */
    perSnapshot: null,
    /** EC2 describe calls: bucket 100, refill 20/s (EC2's non-mutating actions). */
    ec2Describe: { perSecond: 20, burst: 100 },
    /** EC2 mutating calls (create, copy, delete): bucket 200, refill 5/s. */
    ec2Mutate: { perSecond: 5, burst: 200 },
  },
  /**
   * What an EBS account-quota refusal looks like: RequestThrottledException with Reason
   * ACCOUNT_THROTTLED, or the front door's ThrottlingException (no reason).
   */
  ebsAccountThrottle: { name: 'RequestThrottledException', reason: 'ACCOUNT_THROTTLED' },
  /** A second CreateSnapshot of one volume within this many ms: SnapshotCreationPerVolumeRateExceeded. 0: none. */
  perVolumeSnapshotWindowMs: 15_000,
  faults: {
    /** Share of requests answered 5xx (EC2 InternalError, EBS InternalServerException), after the latency. */
    errorRate: 0,
    /** Share of requests held `timeoutHoldMs` without an answer, then dropped: never run. */
    timeoutRate: 0,
    /** Longer than the client's per-call timeout (the provider's timeouts.callMs, 30 s by default). */
    timeoutHoldMs: 35_000,
    /** Share of EBS block requests refused with RequestThrottledException DEPENDENCY_REQUEST_THROTTLED (KMS behind EBS). */
    dependencyThrottleRate: 0,
    /** APIs the faults apply to (e.g. ["GetSnapshotBlock"]); null: every API. */
    apis: null,
  },
  /** Overrides of the world's own settings (world.json) for this server: pendingMs, page shapes. */
  world: {},
  /** Seconds of per-second stats kept for GET /__sim/stats (the totals count everything). */
  keepSeconds: 3600,
});

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

function merge(base, over, path) {
  if (!isObject(over)) throw new Error(`sim settings: ${path || 'the settings'} must be an object`);
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (!(k in base)) throw new Error(`sim settings: unknown field ${path}${k}`);
    // An empty default object (world) takes any fields: they are checked by their owner.
    const nested = isObject(base[k]) && Object.keys(base[k]).length > 0 && v !== null;
    out[k] = nested ? merge(base[k], v, `${path}${k}.`) : v;
  }
  return out;
}

/** The defaults with `overrides` applied; an unknown field fails, so a typo never goes unnoticed. */
export function resolveSimSettings(overrides = {}) {
  return merge(DEFAULT_SIM_SETTINGS, overrides, '');
}
