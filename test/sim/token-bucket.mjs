/**
 * Token buckets as AWS throttles with them: a bucket holds at most `burst` tokens, refills at
 * `perSecond`, and each request takes one token or is refused at once (a server does not queue:
 * the client is told to back off). One bucket per key (API family, region, snapshot...), made on
 * first use, full.
 */
import { performance } from 'node:perf_hooks';

export class TokenBuckets {
  /** `quota` is { perSecond, burst }; `now` returns milliseconds (tests pass their own). */
  constructor(quota, now = () => performance.now()) {
    this.perSecond = quota.perSecond;
    this.burst = quota.burst ?? quota.perSecond;
    this.now = now;
    this.buckets = new Map();
  }

  /** Takes a token from `key`'s bucket: true if there was one, false if the request is refused. */
  take(key) {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
