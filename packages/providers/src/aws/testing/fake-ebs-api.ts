/**
 * An EbsApi whose client a FakeEbsWorld answers (through fake-ebs-handlers.ts). Apart from the
 * world, so that the world and its handlers do not import each other.
 */
import { EBSClient, type EBSClientResolvedConfig, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-ebs';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { EbsApi } from '../ebs-api.js';
import { RecordingLimiter, type FakeEbsWorld } from './fake-ebs.js';
import { installFakeEbsHandlers } from './fake-ebs-handlers.js';

/**
 * An EbsApi over a fresh client whose `send` the world answers, with a limiter that records keys
 * and a sleep that records delays instead of waiting.
 */
export function fakeEbsApi(
  world: FakeEbsWorld,
  overrides: Partial<EbsApi> = {},
): { api: EbsApi; limiter: RecordingLimiter; sleeps: number[]; stub: AwsStub<ServiceInputTypes, ServiceOutputTypes, EBSClientResolvedConfig> } {
  const client = new EBSClient({ region: 'eu-west-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' } });
  const stub = mockClient(client);
  installFakeEbsHandlers(stub, world);
  const limiter = new RecordingLimiter();
  const sleeps: number[] = [];
  const api: EbsApi = {
    client,
    account: '123456789012',
    region: 'eu-west-1',
    limiters: { blocks: limiter },
    retry: { attempts: 5, baseMs: 10, maxMs: 100 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  };
  return { api, limiter, sleeps, stub };
}
