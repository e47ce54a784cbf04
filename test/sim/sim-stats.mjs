/**
 * What the account server counts, per wall-clock second and in total: requests served, throttled
 * (by error name and reason), answered with an injected 5xx, held into a client timeout, and
 * refused by the world itself (failed: not found, invalid input), each by API. `snapshot()` adds the block-request rate against its quota, so a benchmark can plot the
 * rate over time and read steady-state utilisation and the throttles the fleet received.
 */
const BLOCK_APIS = ['GetSnapshotBlock', 'PutSnapshotBlock'];

function bump(counts, api, n = 1) {
  counts[api] = (counts[api] ?? 0) + n;
}

export class SimStats {
  constructor(settings, now = () => Date.now()) {
    this.settings = settings;
    this.now = now;
    this.startedAt = now();
    this.totals = { served: {}, throttled: {}, errors: {}, timeouts: {}, failed: {} };
    /** second (epoch s) -> { served, throttled, errors, timeouts } */
    this.seconds = new Map();
  }

  second() {
    const s = Math.floor(this.now() / 1000);
    let row = this.seconds.get(s);
    if (!row) {
      row = { served: {}, throttled: {}, errors: {}, timeouts: {}, failed: {} };
      this.seconds.set(s, row);
      for (const old of this.seconds.keys()) {
        if (old > s - this.settings.keepSeconds) break; // a Map iterates oldest first
        this.seconds.delete(old);
      }
    }
    return row;
  }

  served(api) {
    bump(this.totals.served, api);
    bump(this.second().served, api);
  }

  /** `why` is the error name, with its Reason when it has one: "RequestThrottledException/ACCOUNT_THROTTLED". */
  throttled(api, why) {
    this.totals.throttled[api] ??= {};
    bump(this.totals.throttled[api], why);
    bump(this.second().throttled, api);
  }

  /** The world refused the call (not found, invalid...): a 4xx the server did not inject. */
  failed(api) {
    bump(this.totals.failed, api);
    bump(this.second().failed, api);
  }

  error(api) {
    bump(this.totals.errors, api);
    bump(this.second().errors, api);
  }

  timeout(api) {
    bump(this.totals.timeouts, api);
    bump(this.second().timeouts, api);
  }

  /**
   * The JSON of GET /__sim/stats. `blocks` has, per block API, the seconds in which it served any
   * request, its mean and peak rate over them, the steady rate (the mean without the first and
   * last of them, which a run only partly fills) and utilisation = steady rate / its quota.
   */
  snapshot() {
    const seconds = [...this.seconds].map(([t, row]) => ({ t, ...row }));
    const blocks = {};
    for (const api of BLOCK_APIS) {
      const times = seconds.filter((row) => row.served[api]).map((row) => row.t);
      if (times.length === 0) continue;
      // Every second from the first to the last, a quiet one (no row) counting as zero.
      const active = [];
      for (let t = times[0]; t <= times.at(-1); t++) active.push(this.seconds.get(t)?.served[api] ?? 0);
      const mean = (xs) => (xs.length ? xs.reduce((n, x) => n + x, 0) / xs.length : 0);
      const steady = active.length >= 3 ? mean(active.slice(1, -1)) : mean(active);
      const quota = this.settings.quotas[api]?.perSecond;
      blocks[api] = {
        activeSeconds: active.length,
        meanPerSecond: mean(active),
        peakPerSecond: Math.max(...active),
        steadyPerSecond: steady,
        quotaPerSecond: quota ?? null,
        utilisation: quota ? steady / quota : null,
      };
    }
    return { startedAt: this.startedAt, now: this.now(), quotas: this.settings.quotas, totals: this.totals, blocks, seconds };
  }
}
