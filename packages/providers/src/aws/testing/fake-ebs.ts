/**
 * A fake EBS world for tests: snapshots made of 512 KiB blocks (fake-ebs-state.ts), served through
 * aws-sdk-client-mock with the EBS direct APIs' real shapes (fake-ebs-handlers.ts). The state comes
 * first and the handlers read it; this file puts the two behind one EbsApi. Faults are switched on
 * per test: throttling bursts, empty pages that carry a NextToken, blocks whose checksum does not
 * match, expired block tokens, a new snapshot unknown to PutSnapshotBlock for a while.
 */
import { EBSClient, type EBSClientResolvedConfig, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-ebs';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { EbsApi } from '../ebs-api.js';
import { FakeEbsState } from './fake-ebs-state.js';
import { installFakeEbsHandlers } from './fake-ebs-handlers.js';
import { RecordingLimiter } from './recording-limiter.js';

// What the tests of the block reader and writer use from the fake, in one import.
export { FAKE_BLOCK_SIZE } from './fake-ebs-state.js';
export { RecordingLimiter } from './recording-limiter.js';

export class FakeEbsWorld extends FakeEbsState {
  /**
   * An EbsApi over a fresh client whose `send` this world answers, with a limiter that records
   * keys and a sleep that records delays instead of waiting.
   */
  api(overrides: Partial<EbsApi> = {}): {
    api: EbsApi;
    limiter: RecordingLimiter;
    sleeps: number[];
    stub: AwsStub<ServiceInputTypes, ServiceOutputTypes, EBSClientResolvedConfig>;
  } {
    const client = new EBSClient({ region: 'eu-west-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' } });
    const stub = mockClient(client);
    installFakeEbsHandlers(stub, this);
    const limiter = new RecordingLimiter();
    const sleeps: number[] = [];
    const api: EbsApi = {
      client,
      account: '123456789012',
      region: 'eu-west-1',
      limiters: { blocks: limiter },
      retry: { attempts: 5, throttledRetries: 0, baseMs: 10, maxMs: 100 },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...overrides,
    };
    return { api, limiter, sleeps, stub };
  }
}
