/**
 * The fleet's RPO compliance records in Redis (keys: shared/jobs/redis-keys.ts). Workers record
 * each volume's newest archive and provider snapshot as their jobs complete, and the last error
 * of a job that gave up; planners record which volumes each policy covered at its latest
 * discovery. Status, the board and metrics read them back without opening any repository (they
 * may hold no repository password), so a scrape costs a few Redis reads however large the
 * repositories are.
 *
 * Each record is its own hash field, written in one atomic step: a point replaces the stored one
 * only when newer (a retried job of an older slot never moves a volume back in time), and clears
 * the volume's error. Redis loss forgets them; `snapfleet status` reads the repositories too.
 */
import type { Redis } from 'ioredis';
import type { DrillResult, JobFailure, RecoveryPoint, VolumeRecord } from '@snapfleet/shared/compliance';
import { archiveHistoryKey, complianceKey, coveredVolumesKey, discoveredAtKey } from '@snapfleet/shared/jobs';
import { redisScript, type ScriptCall } from '../redis-script.js';

/** Volumes per command while a discovery is recorded: bounded, so 100,000 volumes are 200 commands. */
const VOLUMES_PER_COMMAND = 1000;

/** Sets the point if it is newer than the stored one (ISO times compare as strings), clears the error. */
const SET_IF_NEWER = redisScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' and type(old.time) == 'string' and old.time >= ARGV[3] then
    redis.call('HDEL', KEYS[2], ARGV[1])
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`);

/**
 * Sets the failure unless one of the same slot from an earlier stage of the flow is stored: that
 * one is the cause, and its parents fail only because of it (their failures may be reported
 * first: the order of the workers' events is not the flow's).
 */
const SET_CAUSE_OF_SLOT = redisScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and ARGV[3] ~= '' then
  local ok, old = pcall(cjson.decode, cur)
  local rank = { snapshot = 0, archive = 1, retention = 2 }
  if ok and type(old) == 'table' and old.slot == ARGV[3] and (rank[old.queue] or 3) <= (rank[ARGV[4]] or 3) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`);

const field = (policy: string, volumeId: string) => JSON.stringify([policy, volumeId]);

export interface ComplianceRecords {
  records: VolumeRecord[];
  /**
   * Per policy, when its latest discovery ran and the volumes it found, each with the time the
   * policy first covered it (kept across discoveries while it stays covered); absent if never recorded.
   */
  covered: Map<string, { at: string; since: Map<string, string> }>;
}

/** How long recovery points are gathered before they are written, in one round trip: a worker finishing thousands of jobs a minute makes a few writes a second. */
export const POINTS_BATCH_MS = 25;

interface PendingPoint {
  call: ScriptCall;
  settle: { resolve: () => void; reject: (err: Error) => void };
}

export function createComplianceRecorder(redis: Redis, prefix: string) {
  let pending: PendingPoint[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      const results = await SET_IF_NEWER.many(
        redis,
        batch.map((b) => b.call),
      );
      results.forEach((r, i) => (r.ok ? batch[i]!.settle.resolve() : batch[i]!.settle.reject(r.error)));
    } catch (err) {
      for (const b of batch) b.settle.reject(err as Error);
    }
  };
  const point = (kind: 'archive' | 'snapshot', policy: string, volumeId: string, p: RecoveryPoint) =>
    new Promise<void>((resolve, reject) => {
      pending.push({
        call: { keys: [complianceKey(prefix, kind), complianceKey(prefix, 'error')], args: [field(policy, volumeId), JSON.stringify(p), p.time] },
        settle: { resolve, reject },
      });
      timer ??= setTimeout(() => void flush(), POINTS_BATCH_MS);
    });
  return {
    /** Records the volume's newest archive; resolves once written (within POINTS_BATCH_MS, with others). */
    archived: (policy: string, volumeId: string, p: RecoveryPoint) => point('archive', policy, volumeId, p),
    snapshotted: (policy: string, volumeId: string, p: RecoveryPoint) => point('snapshot', policy, volumeId, p),
    /** Writes the points gathered so far now (a closing worker). */
    flush,
    async failed(policy: string, volumeId: string, failure: JobFailure): Promise<void> {
      await SET_CAUSE_OF_SLOT(redis, [complianceKey(prefix, 'error')], [field(policy, volumeId), JSON.stringify(failure), failure.slot ?? '', failure.queue]);
    },
    async drilled(policy: string, volumeId: string, result: DrillResult): Promise<void> {
      await redis.hset(complianceKey(prefix, 'drill'), field(policy, volumeId), JSON.stringify(result));
    },
    /** Forgets a (policy, volume) pair that holds no snapshot any more (orphan expiry emptied it). */
    async forget(policy: string, volumeId: string): Promise<void> {
      const f = field(policy, volumeId);
      const m = redis.multi();
      for (const kind of ['archive', 'snapshot', 'error', 'drill'] as const) m.hdel(complianceKey(prefix, kind), f);
      m.hdel(archiveHistoryKey(prefix), f); // same field shape (redis-archive-history.ts)
      await m.exec();
    },
    /**
     * Replaces the policy's covered volumes in one step (built aside, then renamed over it); a
     * volume covered before keeps the time it was first covered, a new one gets `at`.
     */
    async discovered(policy: string, volumeIds: readonly string[], at: Date): Promise<void> {
      const key = coveredVolumesKey(prefix, policy);
      const temp = `${key}:next`;
      const now = at.toISOString();
      await redis.del(temp);
      for (let i = 0; i < volumeIds.length; i += VOLUMES_PER_COMMAND) {
        const ids = volumeIds.slice(i, i + VOLUMES_PER_COMMAND);
        const since = await redis.hmget(key, ...ids);
        await redis.hset(temp, Object.fromEntries(ids.map((id, j) => [id, since[j] ?? now])));
      }
      const m = redis.multi();
      if (volumeIds.length > 0) m.rename(temp, key);
      else m.del(key);
      m.hset(discoveredAtKey(prefix), policy, at.toISOString());
      await m.exec();
    },
  };
}

export type ComplianceRecorder = ReturnType<typeof createComplianceRecorder>;

/** Everything recorded, for the policies named (covered sets are read per policy). */
export async function readComplianceRecords(redis: Pick<Redis, 'hgetall'>, prefix: string, policies: readonly string[]): Promise<ComplianceRecords> {
  const [archives, snapshots, errors, drills, discoveredAt] = await Promise.all([
    redis.hgetall(complianceKey(prefix, 'archive')),
    redis.hgetall(complianceKey(prefix, 'snapshot')),
    redis.hgetall(complianceKey(prefix, 'error')),
    redis.hgetall(complianceKey(prefix, 'drill')),
    redis.hgetall(discoveredAtKey(prefix)),
  ]);
  const byField = new Map<string, VolumeRecord>();
  const recordOf = (f: string): VolumeRecord | undefined => {
    let r = byField.get(f);
    if (r) return r;
    const parsed = parseField(f);
    if (!parsed) return undefined;
    r = { policy: parsed[0], volumeId: parsed[1] };
    byField.set(f, r);
    return r;
  };
  // Each hash fills one field of the volumes' records; an entry that does not parse is passed over.
  const fill = <T>(hash: Record<string, string>, parse: (text: string) => T | undefined, set: (r: VolumeRecord, value: T) => void) => {
    for (const [f, v] of Object.entries(hash)) {
      const value = parse(v);
      const r = value && recordOf(f);
      if (r) set(r, value);
    }
  };
  fill(archives, parsePoint, (r, p) => (r.lastArchive = p));
  fill(snapshots, parsePoint, (r, p) => (r.lastSnapshot = p));
  fill(errors, parseFailure, (r, e) => (r.lastError = e));
  fill(drills, parseDrill, (r, d) => (r.lastDrill = d));
  const covered = new Map<string, { at: string; since: Map<string, string> }>();
  await Promise.all(
    policies.map(async (p) => {
      const at = discoveredAt[p];
      if (at !== undefined) covered.set(p, { at, since: new Map(Object.entries(await redis.hgetall(coveredVolumesKey(prefix, p)))) });
    }),
  );
  return { records: [...byField.values()], covered };
}

// Records are written by this module alone; one that does not parse (a hand edit, a newer
// version's shape) is passed over rather than failing every scrape.
function parseField(f: string): [string, string] | undefined {
  try {
    const v: unknown = JSON.parse(f);
    return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' ? [v[0], v[1]] : undefined;
  } catch {
    return undefined;
  }
}

function parsePoint(text: string): RecoveryPoint | undefined {
  const v = parseObject(text);
  if (!v || typeof v.time !== 'string' || Number.isNaN(Date.parse(v.time))) return undefined;
  return { time: v.time, ...(typeof v.id === 'string' ? { id: v.id } : {}), ...(typeof v.repository === 'string' ? { repository: v.repository } : {}) };
}

function parseFailure(text: string): JobFailure | undefined {
  const v = parseObject(text);
  if (!v || typeof v.queue !== 'string' || typeof v.message !== 'string' || typeof v.at !== 'string') return undefined;
  return {
    queue: v.queue,
    message: v.message,
    at: v.at,
    ...(typeof v.jobId === 'string' ? { jobId: v.jobId } : {}),
    ...(typeof v.slot === 'string' ? { slot: v.slot } : {}),
  };
}

function parseDrill(text: string): DrillResult | undefined {
  const v = parseObject(text);
  if (!v || typeof v.at !== 'string' || typeof v.snapshotId !== 'string' || typeof v.ok !== 'boolean') return undefined;
  return {
    at: v.at,
    snapshotId: v.snapshotId,
    ok: v.ok,
    ...(typeof v.rtoSeconds === 'number' ? { rtoSeconds: v.rtoSeconds } : {}),
    ...(typeof v.message === 'string' ? { message: v.message } : {}),
  };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
