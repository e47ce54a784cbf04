/**
 * A fake EC2 world for tests: volumes, instances and snapshots in several regions
 * (fake-ec2-state.ts), answered through aws-sdk-client-mock with EC2's real shapes and error codes
 * (fake-ec2-handlers.ts): pages with NextToken (and, when asked, empty pages that still carry one),
 * snapshots pending for a number of polls, RequestLimitExceeded bursts, not-found errors for
 * unknown ids. The state comes first and the handlers read it; this file puts the two behind one
 * Ec2Api per region.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { Ec2Api } from '../ec2-api.js';
import { FAKE_ACCOUNT, FakeEc2State, type FakeEc2Command } from './fake-ec2-state.js';
import { installFakeEc2Handlers } from './fake-ec2-handlers.js';
import { RecordingLimiter } from './recording-limiter.js';

export class FakeEc2World extends FakeEc2State {
  /**
   * An Ec2Api whose per-region clients this world answers, with recording limiters and a sleep
   * that records delays instead of waiting.
   */
  api(overrides: Partial<Ec2Api> = {}): {
    api: Ec2Api;
    limiter: RecordingLimiter;
    mutateLimiter: RecordingLimiter;
    sleeps: number[];
    stubs: Map<string, AwsClientStub<EC2Client>>;
  } {
    const stubs = new Map<string, AwsClientStub<EC2Client>>();
    const clients = new Map<string, EC2Client>();
    const limiter = new RecordingLimiter();
    const mutateLimiter = new RecordingLimiter();
    const sleeps: number[] = [];
    const api: Ec2Api = {
      clientFor: (region) => {
        let client = clients.get(region);
        if (!client) {
          client = new EC2Client({ region, maxAttempts: 1, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' } });
          const stub = mockClient(client);
          installFakeEc2Handlers(stub, this, region);
          this.recordCalls(client, region);
          clients.set(region, client);
          stubs.set(region, stub);
        }
        return client;
      },
      account: FAKE_ACCOUNT,
      limiters: { describe: limiter, mutate: mutateLimiter },
      retry: { attempts: 5, throttledRetries: 0, baseMs: 10, maxMs: 100 },
      timeoutMs: 5000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...overrides,
    };
    return { api, limiter, mutateLimiter, sleeps, stubs };
  }

  /** Wraps the stubbed send so that each call is recorded with its command, input and abortSignal. */
  private recordCalls(client: EC2Client, region: string): void {
    const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
    (client as unknown as { send: typeof send }).send = (command, options) => {
      const c = command as { constructor: { name: string }; input: Record<string, unknown> };
      const opts = options as { abortSignal?: AbortSignal } | undefined;
      this.calls.push({
        command: c.constructor.name.replace(/Command$/, '') as FakeEc2Command,
        region,
        input: c.input,
        ...(opts?.abortSignal ? { abortSignal: opts.abortSignal } : {}),
      });
      return send(command, options);
    };
  }
}
