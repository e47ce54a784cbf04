/**
 * An Ec2Api whose per-region clients a FakeEc2World answers (through fake-ec2-handlers.ts). Apart
 * from the world, so that the world and its handlers do not import each other.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { Ec2Api } from '../ec2-api.js';
import { RecordingLimiter } from './fake-ebs.js';
import { FAKE_ACCOUNT, type FakeEc2World } from './fake-ec2.js';
import { installFakeEc2Handlers } from './fake-ec2-handlers.js';

/** With recording limiters and a sleep that records delays instead of waiting. */
export function fakeEc2Api(
  world: FakeEc2World,
  overrides: Partial<Ec2Api> = {},
): { api: Ec2Api; limiter: RecordingLimiter; mutateLimiter: RecordingLimiter; sleeps: number[]; stubs: Map<string, AwsClientStub<EC2Client>> } {
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
        installFakeEc2Handlers(stub, world, region);
        world.recordCalls(client, region);
        clients.set(region, client);
        stubs.set(region, stub);
      }
      return client;
    },
    account: FAKE_ACCOUNT,
    limiters: { describe: limiter, mutate: mutateLimiter },
    retry: { attempts: 5, baseMs: 10, maxMs: 100 },
    timeoutMs: 5000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  };
  return { api, limiter, mutateLimiter, sleeps, stubs };
}
