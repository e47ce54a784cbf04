// One night of the "night" scenario (lib/scenario-night.mjs): a fresh world of tiny EBS volumes
// behind the simulated account server (test/sim), one S3 repository on s3rver, two `snapfleet
// planner` and W `snapfleet worker` processes against Redis under a prefix of their own. The
// planners' job schedulers (`every: 1d`, which BullMQ fires at once when it is first created)
// tick each policy once; the run ends when every volume's retention job has finished (or a
// job failed for good, or the deadline passed). Sampled meanwhile: /proc of every process, the
// queues, Redis memory; read afterwards: the server's per-second stats, the jobs' timestamps and
// attempts, the repository's snapshots, and (optionally) 20 restores checked byte for byte.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';
import { startAccountServer } from '../../sim/start-account-server.mjs';
import { deleteKeys } from './fleet-support.mjs';
import { NIGHT_POLICIES, NIGHT_REGION, buildNightWorld, zeroExtendedSha256 } from './night-world.mjs';
import { redisMemory, sampleProcesses } from './night-probes.mjs';
import { simulateWeek } from './night-week.mjs';
import { startS3rver } from './s3rver.mjs';

const BUCKET = 'night';

/** ioredis options of a redis:// URL (host, port, database, password). */
export function redisOptions(url) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}
const PLANNERS = 2;
/**
 * EC2's buckets raised for a 2,000-volume account (CreateSnapshot at EC2's default 5/s alone
 * would need 400 s for 2,000 volumes and bind before the block quota): describe 100/s (burst
 * 200), mutate 50/s (burst 200); the fleet's limits say the same, as an operator's would.
 */
const EC2_DESCRIBE = { perSecond: 100, burst: 200 };
const EC2_MUTATE = { perSecond: 50, burst: 200 };
const SAMPLE_MS = 1000;
const REDIS_SAMPLE_MS = 15_000;
const RESTORE_SAMPLE = 20;
const WORK = ['snapshot', 'archive', 'retention'];

function spawnLogged(cliPath, args, env, logPath) {
  const out = createWriteStream(logPath);
  const child = spawn(cliPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, pid: child.pid, exited, close: () => out.end() };
}

function runCli(cliPath, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cliPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
    // A CLI that cannot start (not built, not executable) is a failed run to report, not a crash.
    child.once('error', (err) => resolve({ code: null, stdout, stderr: `${stderr}${cliPath}: ${err.message}\n` }));
  });
}

async function stopProcess(p, graceMs = 20_000) {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
  p.close();
}

function fleetConfig({ sim, quota, passwordFile, concurrency }) {
  return {
    fleet: {
      worker: { codecThreads: 1, snapshotPollInterval: '1s', shutdownTimeout: '5s' },
      queues: { archive: { concurrency } },
    },
    provider: {
      kind: 'aws',
      regions: [NIGHT_REGION],
      endpoints: { ec2: sim.url, ebs: sim.url },
      // As an operator sets them: the account's quotas, so the fleet's own limiter spends them.
      limits: {
        ebsBlockRequestsPerSecond: quota,
        ebsBlockRequestsPerSnapshotPerSecond: quota,
        ec2RequestsPerSecond: EC2_DESCRIBE.perSecond,
        ec2MutatingRequestsPerSecond: EC2_MUTATE.perSecond,
      },
    },
    repositories: { night: { url: `s3://${BUCKET}/repo`, passwordFile } },
    policies: NIGHT_POLICIES.map((p) => ({ name: p.name, selector: { tags: [p.tag] }, schedules: [{ every: '1d' }], repository: 'night' })),
  };
}

async function queueCounts(queues) {
  const out = {};
  for (const [name, q] of Object.entries(queues))
    out[name] = await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children');
  return out;
}

/** Every finished job of `name`: timestamps, attempts, failure reason. */
async function finishedJobs(pkgs, connection, prefix, name) {
  // A reader: a Queue that wrote its meta would reset the fleet's events cap (fleet.jobs.keepEvents).
  const q = new pkgs.bullmq.Queue(name, { connection, prefix, skipMetasUpdate: true });
  try {
    const jobs = [];
    for (const state of ['completed', 'failed']) {
      for (let start = 0; ; start += 1000) {
        const batch = await q.getJobs([state], start, start + 999, true);
        jobs.push(
          ...batch.filter(Boolean).map((j) => ({
            id: j.id,
            state,
            data: j.data,
            processedOn: j.processedOn,
            finishedOn: j.finishedOn,
            attemptsMade: j.attemptsMade,
            failedReason: j.failedReason,
          })),
        );
        if (batch.length < 1000) break;
      }
    }
    return jobs;
  } finally {
    await q.close();
  }
}

/** Waits until every volume's retention job finished, a job failed for good, or the deadline. */
async function waitForNight(pkgs, connection, prefix, volumes, deadline, onProgress) {
  const queues = Object.fromEntries(WORK.map((name) => [name, new pkgs.bullmq.Queue(name, { connection, prefix, skipMetasUpdate: true })]));
  try {
    for (;;) {
      const c = await queueCounts(queues);
      onProgress(c);
      const failed = WORK.reduce((n, q) => n + c[q].failed, 0);
      if (c.retention.completed + failed >= volumes) return { complete: failed === 0, counts: c };
      if (Date.now() > deadline) return { complete: false, timedOut: true, counts: c };
      await sleep(1000);
    }
  } finally {
    await Promise.all(Object.values(queues).map((q) => q.close()));
  }
}

async function restoreSample(cliPath, env, repoArgs, dir, world, snapshots, volumes) {
  const step = Math.max(1, Math.floor(snapshots.length / RESTORE_SAMPLE));
  const sample = snapshots.filter((_, i) => i % step === 0).slice(0, RESTORE_SAMPLE);
  const out = [];
  for (const s of sample) {
    const to = join(dir, `restored-${s.volumeId}.img`);
    const r = await runCli(cliPath, ['restore', ...repoArgs, '--snapshot', s.id, '--to', to], env);
    if (r.code !== 0) {
      out.push({ volumeId: s.volumeId, identical: false, error: r.stderr.trim().split('\n').slice(-3).join(' ') });
      continue;
    }
    const h = createHash('sha256');
    let length = 0;
    for await (const chunk of createReadStream(to, { highWaterMark: 8 << 20 })) {
      h.update(chunk);
      length += chunk.length;
    }
    await rm(to, { force: true });
    const image = await readFile(world.volumeImage(s.volumeId));
    out.push({
      volumeId: s.volumeId,
      identical: h.digest('hex') === zeroExtendedSha256(image, length),
      bytes: length,
      policy: volumes.find((v) => v.id === s.volumeId)?.policy,
    });
  }
  return out;
}

/** Checks the repository holds exactly one snapshot per volume. */
function checkSnapshots(snapshots, volumes) {
  const per = new Map();
  for (const s of snapshots) per.set(s.volumeId, (per.get(s.volumeId) ?? 0) + 1);
  const missing = volumes.filter((v) => !per.has(v.id)).map((v) => v.id);
  const duplicated = [...per].filter(([, n]) => n > 1).map(([id]) => id);
  const foreign = [...per.keys()].filter((id) => !volumes.some((v) => v.id === id));
  return { snapshots: snapshots.length, volumesWithSnapshot: per.size, missing, duplicated, foreign };
}

/**
 * Runs one night with `workers` worker processes. Returns the raw measurements; the report
 * (night-report.mjs) derives ratios from them.
 */
export async function runNight(pkgs, { cfg, base, workers, restore, deadlineS }) {
  const n = cfg.night;
  const label = `w${workers}`;
  const dir = join(cfg.runDir, 'night', label);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const prefix = `${base}.${label}`;
  const connection = redisOptions(cfg.fleet.redisUrl);
  const redis = new pkgs.Redis({ ...connection, maxRetriesPerRequest: 1 });
  const started = [];
  let sim;
  let s3;
  let sampler;
  try {
    let t = Date.now();
    const { world, volumes, imageBytes } = buildNightWorld(join(dir, 'world'), n.volumes);
    const worldMs = Date.now() - t;
    const blockQuota = { perSecond: n.quota, burst: n.quota };
    sim = await startAccountServer({
      worldDir: world.dir,
      settings: {
        quotas: { GetSnapshotBlock: blockQuota, PutSnapshotBlock: blockQuota, ec2Describe: EC2_DESCRIBE, ec2Mutate: EC2_MUTATE },
        // The server's default (50-150 ms) unless the scenario sets its own.
        ...(n.blockLatencyMs ? { latencyMs: { block: n.blockLatencyMs } } : {}),
      },
    });
    s3 = await startS3rver(join(dir, 's3'));
    await s3.createBucket(BUCKET);
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${cfg.password}\n`);
    const repoArgs = ['--repo', `s3://${BUCKET}/repo`, '--password-file', passwordFile];
    const env = { ...sim.env(), ...s3.env, REDIS_URL: cfg.fleet.redisUrl, SNAPFLEET_LOG_LEVEL: 'info' };
    const init = await runCli(cfg.cliPath, ['init', ...repoArgs], env);
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
    const config = join(dir, 'fleet.json');
    await writeFile(config, JSON.stringify(fleetConfig({ sim, quota: n.quota, passwordFile, concurrency: n.concurrency }), null, 2));
    console.log(
      `  [night ${label}] world of ${volumes.length} volumes in ${(worldMs / 1000).toFixed(1)} s; sim ${sim.url}, s3rver ${s3.endpoint}, prefix ${prefix}`,
    );

    const mem0 = await redisMemory(redis, prefix);
    const fleetArgs = ['--config', config, '--prefix', prefix];
    for (let i = 0; i < workers; i++)
      started.push({ role: `worker ${i + 1}`, ...spawnLogged(cfg.cliPath, ['worker', ...fleetArgs], env, join(dir, `worker-${i + 1}.log`)) });
    const t0 = Date.now();
    for (let i = 0; i < PLANNERS; i++)
      started.push({ role: `planner ${i + 1}`, ...spawnLogged(cfg.cliPath, ['planner', ...fleetArgs], env, join(dir, `planner-${i + 1}.log`)) });
    sampler = sampleProcesses(
      [...started.map((p) => ({ role: p.role, pid: p.pid })), { role: 'account server', pid: sim.pid }, { role: 's3rver', pid: s3.pid }].filter((p) => p.pid),
      SAMPLE_MS,
    );

    const redisSamples = [];
    let lastRedis = 0;
    let lastLog = 0;
    const deadline = t0 + deadlineS * 1000;
    const progress = (c) => {
      const now = Date.now();
      if (now - lastLog >= 15_000) {
        lastLog = now;
        console.log(
          `  [night ${label}] ${Math.round((now - t0) / 1000)} s: ` +
            WORK.map(
              (q) =>
                `${q} ${c[q].completed} done/${c[q].active} active/${c[q].waiting + c[q].prioritized} waiting/${c[q].delayed} delayed/${c[q].failed} failed`,
            ).join('; '),
        );
      }
      if (now - lastRedis >= REDIS_SAMPLE_MS) {
        lastRedis = now;
        redisMemory(redis, prefix).then(
          (m) => redisSamples.push({ t: now, ...m }),
          () => {},
        );
      }
    };
    const outcome = await waitForNight(pkgs, connection, prefix, volumes.length, deadline, progress);
    const tEnd = Date.now();
    const live = await sim.stats();
    const procs = sampler.stop();
    sampler = undefined;

    const [ticks, jobs] = [
      await finishedJobs(pkgs, connection, prefix, 'tick'),
      Object.fromEntries(await Promise.all(WORK.map(async (q) => [q, await finishedJobs(pkgs, connection, prefix, q)]))),
    ];
    const memAfter = await redisMemory(redis, prefix);
    await Promise.all(started.map((p) => stopProcess(p)));
    const week = await simulateWeek(pkgs, { connection, redis, prefix, configPath: config, volumes });
    const plannerLogs = await Promise.all(
      started.filter((p) => p.role.startsWith('planner')).map((_, i) => readFile(join(dir, `planner-${i + 1}.log`), 'utf8')),
    );
    const enqueuedLines = plannerLogs.flatMap((text) =>
      text
        .split('\n')
        .filter((l) => l.includes('policy enqueued'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return { raw: l };
          }
        }),
    );

    const list = await runCli(cfg.cliPath, ['snapshots', ...repoArgs, '--json'], env);
    if (list.code !== 0) throw new Error(`snapshots failed: ${list.stderr}`);
    const snapshots = JSON.parse(list.stdout);
    const check = checkSnapshots(snapshots, volumes);
    const restores = restore ? await restoreSample(cfg.cliPath, env, repoArgs, dir, world, snapshots, volumes) : [];
    const finalStats = await sim.stop();
    sim = undefined;
    return {
      workers,
      planners: PLANNERS,
      prefix,
      volumes: volumes.length,
      imageBytes,
      worldMs,
      dataBlocks: volumes.reduce((k, v) => k + v.dataBlocks, 0),
      quota: n.quota,
      ec2: { describe: EC2_DESCRIBE, mutate: EC2_MUTATE },
      archiveConcurrency: n.concurrency,
      t0,
      tEnd,
      deadlineS,
      outcome,
      ticks,
      jobs,
      enqueuedLines,
      procs,
      redis: { before: mem0, samples: redisSamples, after: memAfter, week },
      stats: finalStats ?? live,
      check,
      restores,
    };
  } finally {
    sampler?.stop();
    for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) await stopProcess(p, 5000);
    if (sim) await sim.stop().catch(() => {});
    if (s3) await s3.stop().catch(() => {});
    await deleteKeys(redis, `${prefix}:*`).catch(() => {});
    redis.disconnect();
    // The world's images and the bucket: gone once measured (the logs stay in the run folder).
    await rm(join(dir, 'world'), { recursive: true, force: true });
    await rm(join(dir, 's3'), { recursive: true, force: true });
  }
}

export const nightBase = () => `sfn${randomBytes(3).toString('hex')}`;
