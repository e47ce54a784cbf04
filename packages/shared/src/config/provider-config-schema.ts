/**
 * The `provider` section of fleet.yaml: where volumes come from. `local` reads the image files and
 * devices listed under `volumes`; `aws` discovers EBS volumes in the given regions and snapshots
 * them through EC2, reads them through the EBS direct APIs, and may copy snapshots to other
 * regions for disaster recovery. docs/aws.md is the reference for the AWS fields.
 */
import { z } from 'zod';
import { retentionRulesSchema } from '../retention/rules-schema.js';
import type { SnapshotCopyTarget } from '../ports/volume-provider.js';
import type { RetentionRules } from '../retention/rules-schema.js';
import { parseIntervalMs } from './intervals.js';

/** `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const regionSchema = z
  .string({ error: 'must be an AWS region name such as "us-east-1"' })
  .regex(REGION, { error: 'must be an AWS region name such as "us-east-1"' });

const rate = z.number({ error: 'must be a number of requests per second' }).int({ error: 'must be a whole number' }).positive({ error: 'must be at least 1' });
const perSecond = (fallback: number) => rate.default(fallback);

/**
 * Requests per second per account and region, shared by every worker through Redis. The defaults
 * are AWS's published quotas (EBS direct APIs) or safely below the EC2 token-bucket refill rates,
 * which leaves room for other tools in the same account; raise them with your quota.
 */
const awsLimitsSchema = z.strictObject({
  /** GetSnapshotBlock / PutSnapshotBlock (EBS quota: 1,000 per second). @defaultValue 1000 */
  ebsBlockRequestsPerSecond: perSecond(1000),
  /** GetSnapshotBlock / PutSnapshotBlock on any one snapshot (EBS quota: 1,000 per second). @defaultValue 1000 */
  ebsBlockRequestsPerSnapshotPerSecond: perSecond(1000),
  /** ListSnapshotBlocks / ListChangedBlocks (EBS quota: 50 per second). @defaultValue 50 */
  ebsListRequestsPerSecond: perSecond(50),
  /** StartSnapshot / CompleteSnapshot (EBS quota: 10 per second). @defaultValue 10 */
  ebsStartCompletePerSecond: perSecond(10),
  /** EC2 describe calls (EC2 refills non-mutating buckets at 20 per second). @defaultValue 20 */
  ec2RequestsPerSecond: perSecond(20),
  /** EC2 create / copy / delete calls (EC2 refills mutating buckets at 5 per second). @defaultValue 5 */
  ec2MutatingRequestsPerSecond: perSecond(5),
});

/** Per-region overrides of `limits`: a region whose quota was raised, or one shared with other tools. */
const regionLimitsSchema = z.strictObject({
  ebsBlockRequestsPerSecond: rate.optional(),
  ebsBlockRequestsPerSnapshotPerSecond: rate.optional(),
  ebsListRequestsPerSecond: rate.optional(),
  ebsStartCompletePerSecond: rate.optional(),
  ec2RequestsPerSecond: rate.optional(),
  ec2MutatingRequestsPerSecond: rate.optional(),
});

/** The shortest call timeout: EBS block reads of 512 KiB over a slow link take seconds. */
const MIN_CALL_TIMEOUT_MS = 1000;
const callTimeout = z.string({ error: 'must be an interval such as "30s"' }).transform((text, ctx) => {
  const ms = parseIntervalMs(text);
  if (ms === undefined || ms < MIN_CALL_TIMEOUT_MS) {
    ctx.addIssue({ code: 'custom', message: `must be an interval of at least 1s such as "30s"; got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms;
});

const endpointSchema = z.url({ error: 'must be a URL such as "http://127.0.0.1:4566"' });

const copySchema = z.strictObject({
  /** The disaster-recovery region the snapshots are copied to. */
  region: regionSchema,
  /** The KMS key (id, alias or ARN, in `region`) the copies are encrypted with. */
  kmsKeyId: z.string({ error: 'must be a KMS key id, alias or ARN' }).min(1, { error: 'must not be empty' }),
  /** Which copies to keep there. @defaultValue the policy's snapshotTier rules; without those, every copy */
  retention: retentionRulesSchema.optional(),
});

/** A KMS key's ARN (key or alias): EBS direct APIs take no bare id or alias name. */
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:(?:key|alias)\/[A-Za-z0-9/_-]+$/;

/** The region a KMS key ARN names, or undefined when `arn` is not one. */
export function kmsKeyRegion(arn: string): string | undefined {
  return KMS_KEY_ARN.exec(arn)?.[1];
}

const kmsKeyArnSchema = z
  .string({ error: 'must be a KMS key ARN' })
  .regex(KMS_KEY_ARN, { error: 'must be a KMS key ARN such as "arn:aws:kms:us-east-1:111122223333:key/1234abcd-..."' });

const restoreSchema = z
  .strictObject({
    /** Encrypt the EBS snapshots (and volumes) that restores create. @defaultValue false (the account's default applies) */
    encrypted: z.boolean({ error: 'must be true or false' }).default(false),
    /** The KMS key to encrypt them with, per destination region (keys are regional). @defaultValue {} (the account's default key) */
    kmsKeyArns: z.record(regionSchema, kmsKeyArnSchema).default({}),
  })
  .superRefine((r, ctx) => {
    for (const [region, arn] of Object.entries(r.kmsKeyArns)) {
      const keyRegion = kmsKeyRegion(arn);
      if (keyRegion !== region) ctx.addIssue({ code: 'custom', path: ['kmsKeyArns', region], message: `the key is in ${keyRegion}, not ${region}` });
    }
  });

const awsProviderSchema = z
  .strictObject({
    kind: z.literal('aws'),
    /** Regions whose volumes are discovered and snapshotted. */
    regions: z.array(regionSchema).min(1, { error: 'list at least one region' }),
    /** Names the account in rate-limit keys, so fleets of different accounts sharing one Redis do not share budgets. @defaultValue "default" */
    accountId: z
      .string()
      .regex(/^\d{12}$/, { error: 'must be a 12-digit AWS account id' })
      .optional(),
    limits: awsLimitsSchema.default(awsLimitsSchema.parse({})),
    /** Overrides of `limits` for single regions (source or copy regions), by region name. @defaultValue {} */
    regionLimits: z.record(regionSchema, regionLimitsSchema).default({}),
    timeouts: z
      .strictObject({
        /** Each API call is aborted after this long (and retried if attempts remain). @defaultValue "30s" */
        callMs: callTimeout.default(30_000),
      })
      .default({ callMs: 30_000 }),
    /** Snapshot copies for disaster recovery, one entry per destination region. @defaultValue [] */
    copies: z.array(copySchema).default([]),
    /** How `snapfleet restore --to ebs:` encrypts what it creates (its flags win). @defaultValue unencrypted, unless the account encrypts by default */
    restore: restoreSchema.default({ encrypted: false, kmsKeyArns: {} }),
    /** Endpoint overrides (VPC endpoints, test servers); credentials still come from the default chain. */
    endpoints: z.strictObject({ ec2: endpointSchema.optional(), ebs: endpointSchema.optional() }).optional(),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.regions.forEach((r, i) => {
      if (seen.has(r)) ctx.addIssue({ code: 'custom', path: ['regions', i], message: `duplicate region ${r}` });
      seen.add(r);
    });
    for (const region of Object.keys(p.regionLimits)) {
      if (!p.regions.includes(region) && !p.copies.some((c) => c.region === region)) {
        ctx.addIssue({ code: 'custom', path: ['regionLimits', region], message: `${region} is neither in regions nor a copy region` });
      }
    }
    const copied = new Set<string>();
    p.copies.forEach((c, i) => {
      if (copied.has(c.region)) ctx.addIssue({ code: 'custom', path: ['copies', i, 'region'], message: `duplicate copy region ${c.region}` });
      copied.add(c.region);
      if (p.regions.length === 1 && p.regions[0] === c.region) {
        ctx.addIssue({
          code: 'custom',
          path: ['copies', i, 'region'],
          message: `${c.region} is the only source region: a copy there is no disaster-recovery copy`,
        });
      }
    });
  });

export const providerSchema = z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('local') }), awsProviderSchema], {
  error: 'kind must be "local" or "aws"',
});

export type ProviderConfig = z.output<typeof providerSchema>;
export type AwsProviderConfig = z.output<typeof awsProviderSchema>;
export type AwsLimitsConfig = AwsProviderConfig['limits'];
export type AwsRegionLimitsConfig = AwsProviderConfig['regionLimits'];
export type AwsCopyConfig = AwsProviderConfig['copies'][number];

/** The copy targets (for the port's SnapshotCopies) of configured copy regions. */
export function copyTargetsOf(copies: readonly { region: string }[]): SnapshotCopyTarget[] {
  return copies.map((c) => ({ name: c.region }));
}

/**
 * The rules of each copy target (by SnapshotCopyTarget name) that has rules of its own; targets
 * missing here keep what the policy's snapshot tier keeps.
 */
export function copyRetentionOf(provider: ProviderConfig): ReadonlyMap<string, RetentionRules> {
  if (provider.kind !== 'aws') return new Map();
  return new Map(provider.copies.flatMap((c) => (c.retention ? [[c.region, c.retention] as const] : [])));
}
