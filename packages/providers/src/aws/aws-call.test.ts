import { describe, expect, it } from 'vitest';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { NotFoundError, PermanentError, ThrottledError, TransientError } from '@snapfleet/shared';
import { backoffMs, callAws, type AwsCallContext } from './aws-call.js';
import { RecordingLimiter } from './testing/fake-ebs.js';

function ec2Error(name: string, status: number): EC2ServiceException {
  return new EC2ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });
}

function context(overrides: Partial<AwsCallContext> = {}) {
  const limiter = new RecordingLimiter();
  const sleeps: number[] = [];
  const ctx: AwsCallContext = {
    limiter,
    limitKey: 'ec2:123456789012:us-east-1',
    timeoutMs: 1000,
    retry: { attempts: 5, throttledRetries: 0, baseMs: 100, maxMs: 1000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  };
  return { ctx, limiter, sleeps };
}

describe('callAws', () => {
  it('retries a throttling burst with jittered backoff, one limiter point per attempt', async () => {
    const { ctx, limiter, sleeps } = context();
    let calls = 0;
    const result = await callAws('EC2 DescribeVolumes in us-east-1', ctx, async () => {
      calls++;
      if (calls <= 3) throw ec2Error('RequestLimitExceeded', 503);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(limiter.taken).toEqual(Array(4).fill('ec2:123456789012:us-east-1'));
    // Full jitter at 0.5 of caps 100, 200, 400.
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('throws the classified error when attempts run out', async () => {
    const { ctx, limiter } = context({ retry: { attempts: 3, throttledRetries: 0, baseMs: 10, maxMs: 100 } });
    const err = await callAws('EC2 DescribeSnapshots in eu-west-1', ctx, async () => {
      throw ec2Error('InternalError', 500);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toContain('EC2 DescribeSnapshots in eu-west-1');
    expect(limiter.taken).toHaveLength(3);
  });

  it('spends throttles on their own budget, so a throttled call keeps its attempts against errors', async () => {
    const { ctx, limiter, sleeps } = context({ retry: { attempts: 3, throttledRetries: 4, baseMs: 100, maxMs: 1000 } });
    // Four throttles, then two 5xx, then success: seven attempts, where attempts alone allow three.
    const answers = ['throttle', 'throttle', 'error', 'throttle', 'throttle', 'error', 'ok'];
    let calls = 0;
    const result = await callAws('EBS PutSnapshotBlock of block 7', ctx, async () => {
      const answer = answers[calls++];
      if (answer === 'throttle') throw ec2Error('RequestLimitExceeded', 503);
      if (answer === 'error') throw ec2Error('InternalError', 500);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(7);
    expect(limiter.taken).toHaveLength(7);
    // The backoff grows with every failed attempt, throttled or not: caps 100 .. 1000, at 0.5.
    expect(sleeps).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('fails a call throttled past its throttle budget once the throttles spend its attempts too', async () => {
    const { ctx, limiter } = context({ retry: { attempts: 3, throttledRetries: 4, baseMs: 1, maxMs: 1 } });
    const err = await callAws('EBS GetSnapshotBlock of block 2', ctx, async () => {
      throw ec2Error('RequestLimitExceeded', 503);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    // 4 throttled retries, then 3 attempts.
    expect(limiter.taken).toHaveLength(7);
  });

  it('gives errors no share of the throttle budget', async () => {
    const { ctx, limiter } = context({ retry: { attempts: 3, throttledRetries: 4, baseMs: 1, maxMs: 1 } });
    const err = await callAws('EBS GetSnapshotBlock of block 2', ctx, async () => {
      throw ec2Error('InternalError', 500);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(limiter.taken).toHaveLength(3);
  });

  it('does not retry permanent or not-found errors', async () => {
    for (const [name, cls] of [
      ['UnauthorizedOperation', PermanentError],
      ['InvalidVolume.NotFound', NotFoundError],
    ] as const) {
      const { ctx, sleeps } = context();
      let calls = 0;
      const err = await callAws('EC2 CreateSnapshot of vol-1', ctx, async () => {
        calls++;
        throw ec2Error(name, 400);
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls);
      expect(calls).toBe(1);
      expect(sleeps).toEqual([]);
    }
  });

  it('hands a snapshot quota back to the caller at once instead of spinning on it', async () => {
    const { ctx } = context();
    let calls = 0;
    const err = await callAws('EC2 CreateSnapshot of vol-1', ctx, async () => {
      calls++;
      throw ec2Error('ConcurrentSnapshotLimitExceeded', 400);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(calls).toBe(1);
  });

  it('aborts an attempt after timeoutMs, passes the signal to send, and retries it', async () => {
    const { ctx, limiter } = context({ timeoutMs: 20, retry: { attempts: 2, throttledRetries: 0, baseMs: 1, maxMs: 1 } });
    const signals: AbortSignal[] = [];
    const err = await callAws('EC2 DescribeVolumes in us-east-1', ctx, (signal) => {
      signals.push(signal);
      return new Promise<never>(() => {}); // ignores its signal: the race must still end it
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('EC2 DescribeVolumes in us-east-1 timed out after 20 ms');
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(limiter.taken).toHaveLength(2);
  });

  it('stops at once when the caller aborts, with the caller reason', async () => {
    const controller = new AbortController();
    const { ctx } = context({ signal: controller.signal });
    let calls = 0;
    const reason = new Error('shutting down');
    const err = await callAws('EC2 DescribeVolumes', ctx, (signal) => {
      calls++;
      setTimeout(() => controller.abort(reason), 5);
      return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
    }).catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(calls).toBe(1);
  });

  it('retries only throttling for a non-idempotent call: a 5xx may have carried it out', async () => {
    const { ctx } = context({ idempotent: false });
    let calls = 0;
    const throttledThenOk = await callAws('EC2 CreateSnapshot of vol-1', ctx, async () => {
      if (++calls === 1) throw ec2Error('RequestLimitExceeded', 503);
      return 'snap-1';
    });
    expect(throttledThenOk).toBe('snap-1');
    calls = 0;
    const err = await callAws('EC2 CreateSnapshot of vol-1', ctx, async () => {
      calls++;
      throw ec2Error('InternalError', 500);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(calls).toBe(1);
  });

  it('caps the backoff at maxMs', () => {
    const retry = { attempts: 10, throttledRetries: 0, baseMs: 100, maxMs: 1000 };
    expect(backoffMs(1, retry, () => 0.999)).toBe(99);
    expect(backoffMs(8, retry, () => 0.999)).toBe(999);
    expect(backoffMs(3, retry, () => 0)).toBe(0);
  });
});
