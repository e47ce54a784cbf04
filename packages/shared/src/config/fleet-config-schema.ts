/**
 * The fleet configuration file (fleet.yaml): which Redis namespace, which repositories, which
 * volumes, which policies (selector, schedules, retention), the workers' limits and the board.
 * zod schemas with every default documented (`@defaultValue`); docs/operations.md is the
 * reference with an example. Cross-field checks (a policy's repository exists, names are unique)
 * sit in the top-level refinement so that their errors still name the field.
 */
import { z } from 'zod';
import { envNameSchema } from './env-name-schema.js';
import { CronExpressionParser } from 'cron-parser';
import { retentionPolicySchema } from '../retention/policy-schema.js';
import { retentionRulesSchema } from '../retention/rules-schema.js';
import { isValidTimeZone } from '../retention/zoned-time.js';
import { parseListen } from './board-listen.js';
import { boardConfigSchema } from './board-config-schema.js';
import { interval } from './interval-schema.js';
import { alertsSchema } from './alerts-schema.js';
import { DEFAULT_ZSTD_LEVEL } from '../format/compression-level.js';
import { providerSchema } from './provider-config-schema.js';
import { pricingSchema } from './pricing-schema.js';
import { orphansSchema, retentionGuardSchema } from './orphans-schema.js';
import { drillSchema } from './drill-schema.js';
import { redisConfigSchema } from './redis-connection.js';

/** Names that end up inside Redis keys and job ids: no ':' (BullMQ's separator), no spaces. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const nameSchema = (what: string) =>
  z.string({ error: `must be a ${what} name` }).regex(NAME, { error: `must start with a letter or digit and contain only letters, digits, "_", "." and "-"` });

const timeZone = z
  .string()
  .refine(isValidTimeZone, { error: (iss) => `unknown time zone ${JSON.stringify(iss.input)} (an IANA name such as "Europe/Berlin")` });
const positiveInt = z.number({ error: 'must be a number' }).int({ error: 'must be a whole number' }).positive({ error: 'must be at least 1' });

const cronSchedule = z
  .strictObject({
    cron: z.string({ error: 'must be a cron expression such as "0 2 * * *"' }),
    /** IANA zone the cron fields are read in. @defaultValue "UTC" */
    timeZone: timeZone.default('UTC'),
  })
  .superRefine((s, ctx) => {
    try {
      CronExpressionParser.parse(s.cron, { tz: s.timeZone });
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['cron'], message: `invalid cron expression ${JSON.stringify(s.cron)}: ${(err as Error).message}` });
    }
  });

/** The shortest `every`: a tick discovers volumes and enqueues flows; faster is a mistake. */
const MIN_EVERY_MS = 1000;
const everySchedule = z.strictObject({ every: interval(MIN_EVERY_MS) });

export const scheduleSchema = z.union([cronSchedule, everySchedule], {
  error: 'must be { cron: "...", timeZone?: "..." } or { every: "1h" }',
});

const selectorSchema = z.strictObject({
  /** Volumes that have every one of these tags. */
  tags: z.array(z.string().min(1)).optional(),
  /** Volumes with one of these ids. */
  ids: z.array(z.string().min(1)).optional(),
  /** Volumes whose name matches this shell glob (`web-*`). */
  namePattern: z.string().min(1).optional(),
  /**
   * AWS: the EBS volumes attached to these instances, snapshotted together (crash-consistent,
   * EC2 CreateSnapshots) while each volume still gets its own jobs (docs/aws.md).
   */
  instances: z
    .array(z.string().regex(/^i-[0-9a-f]{8,17}$/, { error: 'must be an EC2 instance id such as "i-0123456789abcdef0"' }))
    .min(1)
    .optional(),
});

const rateLimitSchema = z.strictObject({
  /** Jobs started per `per`, across the whole fleet (BullMQ's queue limiter). */
  max: positiveInt,
  /** @defaultValue "1s" */
  per: interval(1).default(1000),
});

/** The Redis limiter keeps its windows as TTLs in whole seconds. */
const WHOLE_SECOND_MS = 1000;

const policyRateLimitSchema = z.strictObject({
  /** Archive jobs of the policy that may start per `duration`, across the whole fleet. */
  max: positiveInt,
  /** The window: an interval of whole seconds, at least "1s" ("30s", "1m", "1h"). */
  duration: interval(WHOLE_SECOND_MS).refine((ms) => ms % WHOLE_SECOND_MS === 0, { error: 'must be whole seconds, such as "30s", "1m" or "1h"' }),
});

const queueLimitsSchema = z.strictObject({
  /** Jobs one worker process runs at once on this queue. */
  concurrency: positiveInt.optional(),
  /** Jobs the whole fleet runs at once on this queue (BullMQ global concurrency). */
  globalConcurrency: positiveInt.optional(),
  rateLimit: rateLimitSchema.optional(),
});

const policySchema = z.strictObject({
  name: nameSchema('policy'),
  /** Which volumes the policy covers; every given criterion must match. `{}` selects all. */
  selector: selectorSchema.default({}),
  schedules: z.array(scheduleSchema).min(1, { error: 'a policy needs at least one schedule' }),
  /**
   * Recovery point objective: how old a volume's newest archive or provider snapshot may get
   * before `status`, the board and metrics report it breached (docs/operations.md).
   * @defaultValue the longest gap between the schedules' runs plus half of it, at most 1h more
   */
  rpo: interval(MIN_EVERY_MS).optional(),
  /** The repository name (a key of `repositories`). */
  repository: nameSchema('repository'),
  /** Two-tier retention (docs/retention.md). Absent: keep everything. */
  retention: retentionPolicySchema.optional(),
  /** Extra tags recorded on every snapshot of this policy. @defaultValue [] */
  tags: z.array(z.string().min(1)).default([]),
  /**
   * Replication (`snapfleet copy`) after each archive: the volume's snapshots of this policy
   * that are newer than the replica's newest are copied into `repository` (created with
   * `init --copy-id-key-from`), whose own `retention` rules then apply to them there.
   */
  replicate: z.strictObject({ repository: nameSchema('repository'), retention: retentionRulesSchema.optional() }).optional(),
  /**
   * Restore drills (docs/operations.md, "Restore drills"): on `schedule`, `volumes` of the
   * policy's volumes (weighted by the time since their last drill) each have one of their
   * snapshots restored to a scratch target (a file in `scratchDir`, a device, or a copy the
   * provider makes and deletes) and checked block by block.
   */
  drill: drillSchema(scheduleSchema).optional(),
  /** Garbage collection of the policy's repository after retention, at most once per `every`. */
  prune: z.strictObject({ every: interval(MIN_EVERY_MS) }).optional(),
  /**
   * Index compaction (`snapfleet maintenance`) of the policy's repository after retention, at
   * most once per `every`, so that opening it stays a few reads however many archives wrote
   * their per-pack index objects since. A prune compacts too and counts as one.
   */
  maintenance: z.strictObject({ every: interval(MIN_EVERY_MS) }).optional(),
  /**
   * Archives of this policy running at once across the whole fleet (every worker on every
   * host), e.g. to spare the storage the volumes live on. @defaultValue unlimited (the archive
   * queue's own concurrency still applies)
   */
  concurrency: z.number().int().positive({ error: 'must be a whole number >= 1' }).optional(),
  /**
   * At most `max` archive jobs of this policy start per `duration` across the whole fleet (API
   * quotas, egress budgets); a job over budget waits delayed, not in a worker slot.
   * @defaultValue unlimited
   */
  rateLimit: policyRateLimitSchema.optional(),
});

const repositorySchema = z
  .strictObject({
    /** A folder path (relative to the config file), file:///path or s3://bucket/prefix. */
    url: z.string().min(1, { error: 'must not be empty' }),
    /** A file holding the password (relative to the config file). */
    passwordFile: z.string().min(1).optional(),
    /** The environment variable holding the password. @defaultValue "SNAPFLEET_PASSWORD" */
    passwordEnv: envNameSchema.optional(),
    /** zstd level 1-19. @defaultValue 1 (DEFAULT_ZSTD_LEVEL) */
    compressionLevel: z.number().int().min(1).max(19).default(DEFAULT_ZSTD_LEVEL),
    /**
     * MiB a pack fills up to before it is stored, 1-128 (restic's --pack-size). Larger packs mean
     * fewer object-store requests; smaller ones lose less work when a worker dies mid-archive.
     * @defaultValue 16
     */
    packSizeMiB: z.number().int().min(1).max(128).default(16),
    /** A periodic verify of the whole repository (or a share of its packs). */
    verify: z
      .strictObject({
        schedule: scheduleSchema,
        /** Percent of packs read back, (0, 100]. @defaultValue 100 */
        readDataSubset: z.number().gt(0).max(100).default(100),
      })
      .optional(),
  })
  .superRefine((r, ctx) => {
    if (r.passwordFile && r.passwordEnv) ctx.addIssue({ code: 'custom', path: ['passwordEnv'], message: 'give passwordFile or passwordEnv, not both' });
  });

const volumeSchema = z.strictObject({
  /** An image file or a block device. */
  path: z.string().min(1),
  /** @defaultValue the volume id */
  name: z.string().min(1).optional(),
  /** @defaultValue [] */
  tags: z.array(z.string().min(1)).default([]),
});

const workerSchema = z.strictObject({
  /** How long a job's lock lives without renewal before another worker may take it over. @defaultValue "30s" */
  lockDuration: interval(1000).default(30_000),
  /** How often workers look for stalled jobs (held by a dead worker). @defaultValue "30s" */
  stalledInterval: interval(1000).default(30_000),
  /** Stalls before a job fails instead of being taken over again. @defaultValue 3 */
  maxStalledCount: positiveInt.default(3),
  /** Grace for active jobs on SIGTERM before connections are closed. @defaultValue "30s" */
  shutdownTimeout: interval(0).default(30_000),
  /** Worker threads of the codec pool (hash, zstd, AES). @defaultValue one per core */
  codecThreads: positiveInt.optional(),
  /**
   * How often a pending provider snapshot is asked about again (its job waits delayed meanwhile).
   * EBS snapshots take minutes; polling faster only spends API calls. @defaultValue "30s"
   */
  snapshotPollInterval: interval(1000).default(30_000),
  /**
   * With `fleet.routing.byRegion`: the regions whose volume jobs this config's workers take
   * (`snapfleet worker --region` overrides it per process). @defaultValue every region of `provider.regions`
   */
  regions: z.array(z.string().min(1)).min(1, { error: 'list at least one region' }).optional(),
});

const routingSchema = z.strictObject({
  /**
   * Volume jobs go to a queue per region (`snapshot-us-east-1`, `archive-us-east-1`, ...), so a
   * worker pinned to a region (`fleet.worker.regions`, `snapfleet worker --region`) reads blocks
   * only where they are. Needs provider kind "aws". @defaultValue false
   */
  byRegion: z.boolean().default(false),
});

const jobsSchema = z.strictObject({
  /** Attempts per job, counting the first. @defaultValue 5 */
  attempts: positiveInt.default(5),
  /** First retry delay; doubles each attempt. @defaultValue "10s" */
  backoff: interval(0).default(10_000),
  /** Random share of the delay added or removed, in [0, 1]. @defaultValue 0.5 */
  jitter: z.number().min(0).max(1).default(0.5),
  /**
   * How long completed jobs stay in Redis (the board shows them; their id blocks a second enqueue
   * of the same volume and slot). Each is about 1 KB, three per volume and run: what is needed
   * for longer is kept compactly (`keepHistory`). @defaultValue "1h"
   */
  keepCompleted: interval(0).default(3_600_000),
  /**
   * How long each volume's archive outcomes (slot and how it ended, about 40 bytes each) are kept
   * after the jobs are gone: snapshot-tier retention reads them. @defaultValue "7d"
   */
  keepHistory: interval(0).default(7 * 86_400_000),
  /** @defaultValue "30d" */
  keepFailed: interval(0).default(30 * 86_400_000),
  /**
   * Entries kept in each queue's BullMQ events stream (trimmed approximately, in steps of about
   * 100). Nothing in the fleet reads them; they serve an operator's QueueEvents listener. At about
   * 100 B an entry, BullMQ's own default of 10,000 costs ~1 MB per queue, a region's queues
   * included. Takes effect when planners and workers restart. @defaultValue 1000
   */
  keepEvents: positiveInt.default(1000),
});

const fleetSchema = z.strictObject({
  /** Namespace of every Redis key (queues, locks, metrics); several fleets can share a Redis. @defaultValue "snapfleet" */
  prefix: nameSchema('prefix').default('snapfleet'),
  /**
   * Where Redis is: `url`, `sentinels` + `name`, or `cluster` (docs/operations.md, "Redis:
   * Sentinel and Cluster"). @defaultValue REDIS_URL, else redis://127.0.0.1:6379
   */
  redis: redisConfigSchema.optional(),
  worker: workerSchema.default(workerSchema.parse({})),
  /** Where volume jobs are queued (docs/operations.md, "Workers per region"). */
  routing: routingSchema.default(routingSchema.parse({})),
  jobs: jobsSchema.default(jobsSchema.parse({})),
  /**
   * /metrics and /healthz of planner and worker processes (docs/operations.md, "Process
   * endpoints"); `--metrics-listen` overrides it per process. @defaultValue none served
   */
  metrics: z
    .strictObject({
      /** "host:port" ("127.0.0.1:9464"; port 0: any free port). No auth: keep it off public interfaces. */
      listen: z.string().transform((text, ctx) => {
        const listen = parseListen(text);
        if (!listen) ctx.addIssue({ code: 'custom', message: `expected "host:port", got ${JSON.stringify(text)}` });
        return listen ?? { host: '', port: 0 };
      }),
    })
    .optional(),
  /** Per-stage locks (one active job per volume and stage). */
  locks: z.strictObject({ /** @defaultValue "30s" */ ttl: interval(1000).default(30_000) }).default({ ttl: 30_000 }),
  queues: z
    .strictObject({
      snapshot: queueLimitsSchema.optional(),
      archive: queueLimitsSchema.optional(),
      retention: queueLimitsSchema.optional(),
      verify: queueLimitsSchema.optional(),
    })
    .default({}),
});

export const fleetConfigSchema = z
  .strictObject({
    fleet: fleetSchema.default(fleetSchema.parse({})),
    repositories: z.record(nameSchema('repository'), repositorySchema),
    /** The volume provider: `local`, or `aws` (docs/aws.md). @defaultValue { kind: "local" } */
    provider: providerSchema.default({ kind: 'local' }),
    /** Volumes of the local provider, by id. */
    volumes: z.record(nameSchema('volume'), volumeSchema).default({}),
    policies: z.array(policySchema).default([]),
    board: boardConfigSchema.optional(),
    /** Where alerts go (docs/operations.md, "Alerts"). Absent: no alerts. */
    alerts: alertsSchema.optional(),
    pricing: pricingSchema.optional(),
    /** Expiry of snapshots no policy covers any more (docs/operations.md, "Orphans"). Absent: kept for ever. */
    orphans: orphansSchema.optional(),
    /** How much of a volume's history a retention change may delete unconfirmed (docs/operations.md, "Retention changes"). */
    retentionGuard: retentionGuardSchema.default(retentionGuardSchema.parse({})),
  })
  .superRefine((c, ctx) => {
    const regions = c.provider.kind === 'aws' ? c.provider.regions : [];
    if (c.fleet.routing.byRegion && c.provider.kind !== 'aws') {
      ctx.addIssue({
        code: 'custom',
        path: ['fleet', 'routing', 'byRegion'],
        message: 'routing by region needs provider kind "aws" (local volumes have no region)',
      });
    }
    c.fleet.worker.regions?.forEach((r, i) => {
      if (!regions.includes(r))
        ctx.addIssue({ code: 'custom', path: ['fleet', 'worker', 'regions', i], message: `${r} is not in provider.regions (${regions.join(', ') || 'none'})` });
    });
    const seen = new Set<string>();
    c.policies.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['policies', i, 'name'], message: `duplicate policy name ${p.name}` });
      seen.add(p.name);
      if (p.selector.instances && c.provider.kind !== 'aws') {
        ctx.addIssue({ code: 'custom', path: ['policies', i, 'selector', 'instances'], message: 'instance sets need provider kind "aws"' });
      }
      if (!c.repositories[p.repository]) {
        const known = Object.keys(c.repositories).join(', ') || 'none';
        ctx.addIssue({ code: 'custom', path: ['policies', i, 'repository'], message: `unknown repository ${p.repository} (defined: ${known})` });
      }
      if (p.replicate && !c.repositories[p.replicate.repository]) {
        const known = Object.keys(c.repositories).join(', ') || 'none';
        ctx.addIssue({
          code: 'custom',
          path: ['policies', i, 'replicate', 'repository'],
          message: `unknown repository ${p.replicate.repository} (defined: ${known})`,
        });
      }
      if (p.replicate && p.replicate.repository === p.repository) {
        ctx.addIssue({ code: 'custom', path: ['policies', i, 'replicate', 'repository'], message: 'a policy cannot replicate into its own repository' });
      }
    });
  });

export type FleetConfigInput = z.input<typeof fleetConfigSchema>;
export type FleetConfig = z.output<typeof fleetConfigSchema>;
export type PolicyConfig = FleetConfig['policies'][number];
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type RepositoryConfig = FleetConfig['repositories'][string];
export type VolumeConfig = FleetConfig['volumes'][string];
export type VolumeSelector = PolicyConfig['selector'];
export type BoardConfig = NonNullable<FleetConfig['board']>;
export type QueueLimits = z.output<typeof queueLimitsSchema>;
