/**
 * `snapfleet plan` run in-process against a fake AWS: the real AWS provider (loaded lazily, as in
 * production) talks to an EC2Client whose `send` aws-sdk-client-mock answers with 1,000 EBS
 * volumes in pages. The repository is an S3 URL nothing answers, so the estimate falls back to the
 * price table's assumptions and says so. A second case has a folder repository that opens, whose
 * snapshot stats replace the assumptions.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext, Env } from '../context.js';
import { runCli } from '../program.js';

const GIB = 1024 ** 3;
const NOW = new Date('2026-12-05T12:00:00Z');

/** The shapes this test uses of the EC2 SDK and aws-sdk-client-mock (resolved from the providers package, as the provider itself is). */
type Ec2Filter = { Name?: string; Values?: string[] };
type DescribeVolumesInput = { Filters?: Ec2Filter[]; MaxResults?: number; NextToken?: string };
interface Ec2Sdk {
  EC2Client: object;
  DescribeVolumesCommand: object;
}
interface ClientMock {
  on(command: object): { callsFake(fake: (input: DescribeVolumesInput) => unknown): unknown };
  onAnyCommand(): { rejects(message: string): unknown };
  restore(): void;
}
interface ClientMockModule {
  mockClient(client: object): ClientMock;
}

const fromProviders = createRequire(new URL('../../../providers/package.json', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], env: Env = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    env,
    clock: { now: () => NOW },
    stdout: { write: (s) => void (stdout += s) },
    stderr: { write: (s) => void (stderr += s) },
    hostname: 'plan-test',
    onInterrupt: () => ({ release() {} }),
    onReload: () => ({ release() {} }),
  };
  const code = await runCli(argv, ctx);
  return { code, stdout, stderr };
}

describe('snapfleet plan over 1,000 EBS volumes', () => {
  /** 1,000 volumes tagged backup=daily, 100 each of 10, 20, ... 100 GiB (55,000 GiB), and 20 others. */
  const VOLUMES = Array.from({ length: 1020 }, (_, i) => ({
    VolumeId: `vol-${(0x1000 + i).toString(16).padStart(17, '0')}`,
    Size: 10 * ((i % 10) + 1),
    State: i % 3 === 0 ? 'in-use' : 'available',
    Tags: [
      { Key: 'backup', Value: i < 1000 ? 'daily' : 'never' },
      { Key: 'Name', Value: `data-${i}` },
    ],
  }));
  /** EC2 answers fewer than MaxResults at will: 100 a page makes 10 pages. */
  const PAGE = 100;
  let mock: ClientMock;
  const pages: DescribeVolumesInput[] = [];
  let dir: string;
  let config: string;
  // The S3 endpoint is a closed port: the repository cannot be opened, quickly.
  const env: Env = {
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    AWS_ACCESS_KEY_ID: 'AKIAPLANTEST00000000',
    AWS_SECRET_ACCESS_KEY: 'plan-test',
    AWS_MAX_ATTEMPTS: '1',
    SNAPFLEET_CACHE_DIR: 'off',
    SNAPFLEET_PASSWORD: 'plan-test-password',
  };

  beforeAll(async () => {
    const ec2 = fromProviders('@aws-sdk/client-ec2') as Ec2Sdk;
    const { mockClient } = fromProviders('aws-sdk-client-mock') as ClientMockModule;
    mock = mockClient(ec2.EC2Client);
    mock.onAnyCommand().rejects('the plan test fakes DescribeVolumes only');
    mock.on(ec2.DescribeVolumesCommand).callsFake((input) => {
      pages.push(input);
      const wanted = (input.Filters ?? []).filter((f) => f.Name?.startsWith('tag:'));
      const matching = VOLUMES.filter((v) => wanted.every((f) => v.Tags.some((t) => `tag:${t.Key}` === f.Name && (f.Values ?? []).includes(t.Value))));
      const from = Number(input.NextToken ?? 0);
      const to = from + Math.min(PAGE, input.MaxResults ?? PAGE);
      return Promise.resolve({ Volumes: matching.slice(from, to), ...(to < matching.length ? { NextToken: String(to) } : {}) });
    });
    dir = await mkdtemp(join(tmpdir(), 'snapfleet-plan-'));
    config = join(dir, 'fleet.yaml');
    await writeFile(
      config,
      [
        'provider: { kind: aws, regions: [us-east-1], limits: { ebsBlockRequestsPerSecond: 1000 } }',
        'repositories: { main: { url: "s3://plan-test-bucket/fleet", packSizeMiB: 16 } }',
        'policies:',
        '  - name: daily',
        '    selector: { tags: [backup=daily] }',
        '    schedules: [{ cron: "0 2 * * *", timeZone: UTC }]',
        '    repository: main',
        '    retention: { snapshotTier: { keepLast: 7 }, archiveTier: { keepDaily: 30 } }',
        '  - name: never',
        '    selector: { tags: [backup=never] }',
        '    schedules: [{ every: 1d }]',
        '    repository: main',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    mock?.restore();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('estimates the policy from the discovered volumes, in pages, with the documented assumptions', async () => {
    const r = await run(['plan', '--config', config, '--policy', 'daily', '--cost', '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Ten pages of the tag-filtered listing: every volume was seen.
    expect(pages.map((p) => p.NextToken)).toEqual([undefined, '100', '200', '300', '400', '500', '600', '700', '800', '900']);
    const out = JSON.parse(r.stdout) as { cost: boolean; policies: PlanJson[] };
    expect(out.cost).toBe(true);
    expect(out.policies.map((p) => p.policy)).toEqual(['daily']);
    const p = out.policies[0]!;
    expect(p.volumes).toBe(1000);
    expect(p.totalBytes).toBe(55_000 * GIB);
    expect(p.notes[0]).toMatch(/^repository main could not be opened \(.+\): every volume is estimated with the assumptions, packs as STANDARD$/);
    expect(p.assumptions.dailyChangeRate).toEqual({ assumed: 0.03, measuredVolumes: 0, assumedVolumes: 1000 });
    const quantity = Object.fromEntries(p.monthly.items.map((i) => [i.item, i.quantity]));
    const dollars = Object.fromEntries(p.monthly.items.map((i) => [i.item, i.dollars]));
    // EBS: 55,000 GiB x (1 + 6 x 3%) = 64,900 GB-month x $0.05 = $3,245.
    expect(quantity['ebs-snapshot-storage']).toBeCloseTo(64_900, 6);
    expect(dollars['ebs-snapshot-storage']).toBeCloseTo(3245, 6);
    // S3: half of 55,000 GiB x (1 + 29 x 3%) = 51,425 GB-month x $0.023 = $1,182.775.
    expect(dollars['s3-storage']).toBeCloseTo(1182.775, 6);
    // A run reads 3% of each volume in 512 KiB blocks, each volume's last block whole: for the ten
    // sizes 615 + 1,229 + 1,844 + 2,458 + 3,072 + 3,687 + 4,301 + 4,916 + 5,530 + 6,144 = 33,796, x 100.
    expect(p.incremental.requests.blocks).toBe(3_379_600);
    expect(quantity['ebs-get-snapshot-block']).toBeCloseTo((3_379_600 * 365) / 12, 3);
    // At 1,000 blocks a second a run needs 3,379.6 s; 1,000 CreateSnapshot at 5 a second only 200 s.
    expect(p.incremental.window).toMatchObject({ seconds: expect.closeTo(3379.6, 6), boundBy: 'ebs-block-requests' });
    expect(p.first.window).toMatchObject({ seconds: expect.closeTo(112_640, 6), boundBy: 'ebs-block-requests' });
    expect(p.monthly.dollars).toBeGreaterThan(3245 + 1182.775);
  });

  it('prints a table per policy', async () => {
    const r = await run(['plan', '--config', config, '--policy', 'daily', '--cost'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^policy daily: 1000 volume\(s\), 55,000\.0 GiB; repository main \(S3, packs in STANDARD, 16 MiB packs\)$/m);
    expect(r.stdout).toMatch(/^ {4}EBS snapshot storage +64,900\.0 GB-month +\$0\.05\/GB-month +\$3,245\.00$/m);
    expect(r.stdout).toMatch(/^ {4}S3 storage +51,425\.0 GB-month +\$0\.023\/GB-month +\$1,182\.78$/m);
    expect(r.stdout).toMatch(/^ {2}window: 56m20s \(bound by ebs-block-requests\) a run; 1d7h17m20s \(bound by ebs-block-requests\) the first run$/m);
    expect(r.stdout).toMatch(
      /^ {2}assumptions: change 3\.0%\/day assumed for 1000, stored ratio 0\.50 assumed for 1000, written share 100% assumed for 1000$/m,
    );
  });

  it('leaves the prices out without --cost', async () => {
    const r = await run(['plan', '--config', config, '--json'], env);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { policies: (PlanJson & { monthly?: unknown })[] };
    expect(out.policies.map((p) => [p.policy, p.volumes])).toEqual([
      ['daily', 1000],
      ['never', 20],
    ]);
    expect(out.policies[0]!.monthly).toBeUndefined();
    expect(out.policies[0]!.incremental).not.toHaveProperty('dollars');
    const text = await run(['plan', '--config', config], env);
    expect(text.stdout).not.toMatch(/\$/);
    expect(text.stdout).toMatch(/^policy never: 20 volume\(s\)/m);
  });

  it('refuses an unknown policy, naming the field', async () => {
    const r = await run(['plan', '--config', config, '--policy', 'hourly', '--cost'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('snapfleet: --policy: unknown policy hourly (defined: daily, never) [policy]\n');
    expect(r.stdout).toBe('');
  });
});

describe('snapfleet plan with a repository that opens', () => {
  let dir: string;
  let config: string;
  const MIB = 1024 * 1024;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapfleet-plan-repo-'));
    const password = join(dir, 'password');
    await writeFile(password, 'plan-test-password\n');
    // web-1: 8 MiB, its second half zeros (holes); web-2 never archived.
    const data = Buffer.alloc(8 * MIB);
    for (let i = 0; i < 4 * MIB; i += 4096) data.fill(i / 4096, i, i + 4096);
    await writeFile(join(dir, 'web-1.img'), data);
    await writeFile(join(dir, 'web-2.img'), Buffer.alloc(4 * MIB, 7));
    const repo = ['--repo', join(dir, 'repo'), '--password-file', password];
    expect((await run(['init', ...repo])).code).toBe(0);
    const archived = await run(['archive', ...repo, join(dir, 'web-1.img'), '--volume-id', 'web-1', '--time', '2026-12-04T02:00:00Z']);
    expect(archived.stderr).toBe('');
    config = join(dir, 'fleet.yaml');
    await writeFile(
      config,
      [
        'repositories: { main: { url: ./repo, passwordFile: ./password } }',
        'volumes: { web-1: { path: ./web-1.img }, web-2: { path: ./web-2.img } }',
        'policies: [{ name: web, schedules: [{ every: 1d }], repository: main, rateLimit: { max: 1, duration: 1m } }]',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("uses the repository's snapshot stats for the volumes it has, the assumptions for the others", async () => {
    const r = await run(['plan', '--config', config, '--cost', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const p = (JSON.parse(r.stdout) as { policies: PlanJson[] }).policies[0]!;
    expect(p.notes).toEqual([]);
    expect(p.volumes).toBe(2);
    // web-1's full archive read 8 MiB, half of it holes: written share 0.5, measured; no incremental yet.
    expect(p.assumptions.writtenShare).toEqual({ assumed: 1, measuredVolumes: 1, assumedVolumes: 1 });
    expect(p.assumptions.storedRatio).toEqual({ assumed: 0.5, measuredVolumes: 1, assumedVolumes: 1 });
    expect(p.assumptions.dailyChangeRate).toEqual({ assumed: 0.03, measuredVolumes: 0, assumedVolumes: 2 });
    expect(p.repositoryStoredBytes).toBeGreaterThan(0);
    // Local volumes and a folder repository: nothing to price, and only the job rate limit times a run.
    expect(p.monthly.items).toEqual([]);
    expect(p.incremental.window).toEqual({ seconds: 120, boundBy: 'policy-rate-limit', parts: [{ limit: 'policy-rate-limit', seconds: 120 }] });
  });
});

interface PlanJson {
  policy: string;
  volumes: number;
  totalBytes: number;
  notes: string[];
  assumptions: Record<string, { assumed: number; measuredVolumes: number; assumedVolumes: number }>;
  repositoryStoredBytes?: number;
  monthly: { items: { item: string; quantity: number; dollars: number }[]; dollars: number };
  incremental: { requests: { blocks: number }; window: { seconds: number; boundBy?: string } };
  first: { window: { seconds: number; boundBy?: string } };
}
