/**
 * The simulated account server (test/sim) under a real fleet: `snapfleet run --once` and
 * `snapfleet restore --to ebs:` talk to it over HTTP with the real SDK clients, through a low
 * block-request quota, injected 5xx answers, held requests and snapshots that stay pending for a
 * while. Every archive completes, a restore into a new EBS snapshot is byte-identical, and the
 * server's stats show the throttles and 5xx answers the fleet received and got past. A first test
 * checks the error shapes the SDK reads from the server one by one.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { deletePrefix, uniquePrefix, TEST_PASSWORD } from '../support/fleet.js';
import { AwsWorld } from '../support/aws-world/aws-world.js';
import { awsFleetConfig } from '../support/aws-world/aws-fleet-run.js';
import { sdkOf } from './sdk-schemas.mjs';
import { startAccountServer, type AccountServer } from './start-account-server.mjs';

/** 16 blocks of 512 KiB each (8 MiB) with two holes: enough requests for faults at these rates to show. */
const LAYOUT = 'DDDD.DDDDDDD.DDD';
const VOLUMES = ['vol-0519000000000000a', 'vol-0519000000000000b', 'vol-0519000000000000c'];
/**
 * The server admits 12 block requests a second per API (burst 2); the fleet's own limiter lets 20
 * through and its reads and writes run at ~10-15 a second here, so some attempts are throttled
 * and retried, never so many in a row that a call runs out of attempts.
 */
const SERVER_BLOCK_QUOTA = { perSecond: 12, burst: 2 };
const FLEET_BLOCK_LIMIT = 20;

type SdkCommand = new (input: object) => object;
interface SdkClient {
  send(command: object): Promise<Record<string, unknown>>;
  destroy(): void;
}
type SdkError = Error & { Reason?: string; $metadata?: { httpStatusCode?: number } };

function sdkClient(service: 'ec2' | 'ebs', url: string): { client: SdkClient; command: (name: string, input: object) => object } {
  const { sdk } = sdkOf(service);
  const Client = sdk[service === 'ec2' ? 'EC2Client' : 'EBSClient'] as new (config: object) => SdkClient;
  const client = new Client({ region: 'us-east-1', endpoint: url, maxAttempts: 1, credentials: { accessKeyId: 'AKIASIM', secretAccessKey: 'simulated' } });
  return { client, command: (name, input) => new (sdk[`${name}Command`] as SdkCommand)(input) };
}

async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('the call succeeded');
}

/** sha256 of a file read as `length` bytes: zero-extended, as an EBS snapshot reads past its last written block. */
async function sha256Of(path: string, length: number): Promise<string> {
  const data = await readFile(path);
  const out = Buffer.alloc(length);
  data.copy(out, 0, 0, Math.min(length, data.byteLength));
  return createHash('sha256').update(out).digest('hex');
}

describe('the simulated account server', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('sim-account');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('answers with the errors of a real account, in the shapes the SDK parses', async () => {
    const world = AwsWorld.create(join(dir, 'wire-world'));
    await world.addVolume('vol-05190000000000001', 'us-east-1', { backup: 'daily' }, 'DD');
    const sim = await startAccountServer({
      worldDir: world.dir,
      settings: {
        latencyMs: { ec2: [0, 1], block: [0, 1], list: [0, 1] },
        quotas: { ec2Describe: { perSecond: 1, burst: 2 }, GetSnapshotBlock: { perSecond: 1, burst: 1 } },
      },
    });
    const ec2 = sdkClient('ec2', sim.url);
    const ebs = sdkClient('ebs', sim.url);
    try {
      const snap = await ec2.client.send(ec2.command('CreateSnapshot', { VolumeId: 'vol-05190000000000001' }));
      expect(snap.State).toBe('pending');
      const again = await failure(ec2.client.send(ec2.command('CreateSnapshot', { VolumeId: 'vol-05190000000000001' })));
      expect([again.name, again.$metadata?.httpStatusCode]).toEqual(['SnapshotCreationPerVolumeRateExceeded', 400]);

      const describe = () => ec2.client.send(ec2.command('DescribeSnapshots', { OwnerIds: ['self'], SnapshotIds: [snap.SnapshotId] }));
      expect(((await describe()).Snapshots as object[])[0]).toMatchObject({ SnapshotId: snap.SnapshotId, State: 'completed', VolumeSize: 1 });
      await describe();
      const limited = await failure(describe());
      expect([limited.name, limited.$metadata?.httpStatusCode]).toEqual(['RequestLimitExceeded', 503]);

      const list = await ebs.client.send(ebs.command('ListSnapshotBlocks', { SnapshotId: snap.SnapshotId }));
      const [block] = list.Blocks as { BlockIndex: number; BlockToken: string }[];
      const get = () =>
        ebs.client.send(ebs.command('GetSnapshotBlock', { SnapshotId: snap.SnapshotId, BlockIndex: block!.BlockIndex, BlockToken: block!.BlockToken }));
      const first = await get();
      expect([first.DataLength, first.ChecksumAlgorithm]).toEqual([512 * 1024, 'SHA256']);
      const throttled = await failure(get());
      expect([throttled.name, throttled.Reason]).toEqual(['RequestThrottledException', 'ACCOUNT_THROTTLED']);
      const missing = await failure(ebs.client.send(ebs.command('ListSnapshotBlocks', { SnapshotId: 'snap-0519000000000dead' })));
      expect([missing.name, missing.Reason, missing.$metadata?.httpStatusCode]).toEqual(['ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND', 404]);
    } finally {
      ec2.client.destroy();
      ebs.client.destroy();
      const stats = await sim.stop();
      expect(stats.totals.throttled).toMatchObject({
        CreateSnapshot: { SnapshotCreationPerVolumeRateExceeded: 1 },
        DescribeSnapshots: { RequestLimitExceeded: 1 },
        GetSnapshotBlock: { 'RequestThrottledException/ACCOUNT_THROTTLED': 1 },
      });
    }
  });

  describe('under a fleet', () => {
    let world: AwsWorld;
    let sim: AccountServer;
    let repoArgs: string[];
    let config: string;
    let env: Record<string, string>;
    const prefix = uniquePrefix('sim-account');

    beforeAll(async () => {
      // Snapshots stay pending for 1.5 s after they are taken or completed, as EBS copies them.
      world = AwsWorld.create(join(dir, 'world'), { pendingMs: 1_500, pageBlocks: 100, scanBlocks: 100 });
      for (const id of VOLUMES) await world.addVolume(id, 'us-east-1', { backup: 'daily' }, LAYOUT);
      sim = await startAccountServer({
        worldDir: world.dir,
        settings: {
          latencyMs: { block: [20, 60] },
          quotas: { GetSnapshotBlock: SERVER_BLOCK_QUOTA, PutSnapshotBlock: SERVER_BLOCK_QUOTA },
          faults: {
            errorRate: 0.08,
            timeoutRate: 0.02,
            timeoutHoldMs: 2_500,
            apis: ['GetSnapshotBlock', 'PutSnapshotBlock', 'ListSnapshotBlocks', 'DescribeSnapshots', 'DescribeVolumes'],
          },
        },
      });
      const passwordFile = join(dir, 'password');
      await writeFile(passwordFile, TEST_PASSWORD + '\n');
      const repo = join(dir, 'repo');
      repoArgs = ['--repo', repo, '--password-file', passwordFile];
      const init = await runCli(['init', ...repoArgs]);
      if (init.code !== 0) throw new Error(describeRun(init));
      const fleetConfig = awsFleetConfig({
        regions: ['us-east-1'],
        repoUrl: repo,
        passwordFile,
        limits: { ebsBlockRequestsPerSecond: FLEET_BLOCK_LIMIT },
        fleet: { worker: { codecThreads: 1, shutdownTimeout: '10s', snapshotPollInterval: '1s' }, jobs: { attempts: 3, backoff: '500ms' } },
      }) as { provider: Record<string, unknown> };
      // The config names the endpoints; the restore below has no config and takes them from the environment.
      fleetConfig.provider.endpoints = { ec2: sim.url, ebs: sim.url };
      // Shorter than the server holds a request, so a held request times out and is retried.
      fleetConfig.provider.timeouts = { callMs: '1s' };
      config = join(dir, 'fleet.yaml');
      await writeFile(config, JSON.stringify(fleetConfig));
      env = { ...sim.env(), REDIS_URL: 'redis://127.0.0.1:6379', SNAPFLEET_LOG_LEVEL: 'warn' };
    });
    afterAll(async () => {
      await sim?.stop();
      await deletePrefix(prefix);
    });

    it('archives every volume and restores one byte-identical through throttles, 5xx and timeouts', async () => {
      const run = await runCli(['run', '--config', config, '--once', '--prefix', prefix, '--json'], env, { timeoutMs: 45_000 });
      expect(run.code, describeRun(run)).toBe(0);
      const summary = parseJson<{ volumes: { volumeId: string; state: string; snapshotId: string; readBytes: number }[] }>(run);
      expect(summary.volumes.map((v) => [v.volumeId, v.state])).toEqual(VOLUMES.map((id) => [id, 'completed']));
      const dataBlocks = [...LAYOUT].filter((c) => c === 'D').length;
      for (const v of summary.volumes) expect(v.readBytes, v.volumeId).toBe(dataBlocks * 512 * 1024);

      const [first] = summary.volumes;
      const restore = await runCli(['restore', ...repoArgs, '--snapshot', first!.snapshotId, '--to', 'ebs:us-east-1', '--prefix', prefix, '--json'], env, {
        cwd: dir,
        timeoutMs: 30_000,
      });
      expect(restore.code, describeRun(restore)).toBe(0);
      const restored = parseJson<{ ebsSnapshotId: string }>(restore).ebsSnapshotId;
      const length = LAYOUT.length * 512 * 1024;
      expect(await sha256Of(world.snapshotImage(restored), length)).toBe(await sha256Of(world.volumeImage(first!.volumeId), length));

      const stats = await sim.stats();
      const sum = (counts: Record<string, number> = {}) => Object.values(counts).reduce((n, c) => n + c, 0);
      // Every data block was read once per volume and written once by the restore; each refused
      // or failed attempt was retried until it was served.
      expect(stats.totals.served.GetSnapshotBlock).toBeGreaterThanOrEqual(VOLUMES.length * dataBlocks);
      expect(stats.totals.served.PutSnapshotBlock).toBeGreaterThanOrEqual(dataBlocks);
      const throttled = (api: string) => stats.totals.throttled[api]?.['RequestThrottledException/ACCOUNT_THROTTLED'] ?? 0;
      expect(throttled('GetSnapshotBlock') + throttled('PutSnapshotBlock')).toBeGreaterThan(0);
      expect(sum(stats.totals.errors)).toBeGreaterThan(0);
      // No wall-clock second holds more than a refill and a full bucket.
      for (const api of ['GetSnapshotBlock', 'PutSnapshotBlock'])
        expect(stats.blocks[api]!.peakPerSecond, api).toBeLessThanOrEqual(SERVER_BLOCK_QUOTA.perSecond + SERVER_BLOCK_QUOTA.burst);
      expect(sim.stderr()).not.toContain('account-server:');
    });
  });
});
