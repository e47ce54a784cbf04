// Helpers of the "fleet" scenario (lib/scenario-fleet.mjs): the built fleet packages (loaded on
// demand, so the other scenarios run before `pnpm build`), a synthetic in-memory VolumeProvider,
// a pino logger set up like the CLI's, and Redis bookkeeping (memory, key counts, cleanup of the
// scenario's own key prefix; never FLUSHDB on the shared Redis).
import { URL } from 'node:url';
import { closeSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

/** The fleet packages from packages/<name>/dist (via the test package's workspace dependencies). */
export async function loadFleetPackages() {
  try {
    const [planner, worker, shared, config, jobs, providersFleet, bullmq, ioredis] = await Promise.all([
      import('@snapfleet/planner'),
      import('@snapfleet/worker'),
      import('@snapfleet/shared'),
      import('@snapfleet/shared/config'),
      import('@snapfleet/shared/jobs'),
      import('@snapfleet/providers/fleet'),
      import('bullmq'),
      import('ioredis'),
    ]);
    // pino is the worker package's dependency (the CLI's logger), not the test package's.
    const pino = createRequire(import.meta.resolve('@snapfleet/worker'))('pino');
    return { planner, worker, shared, config, jobs, providersFleet, bullmq, Redis: ioredis.Redis, pino: pino.pino ?? pino };
  } catch (e) {
    throw new Error(`cannot load the built fleet packages (run \`TURBO_TELEMETRY_DISABLED=1 pnpm build\` first): ${e.message}`);
  }
}

/**
 * A VolumeProvider (packages/shared/src/ports/volume-provider.ts) over a synthetic, in-memory
 * list of volumes: discovery filters with the fleet's own selector matching; snapshots complete
 * at once and are idempotent by client token; nothing can be read (the scenario never archives).
 */
export class MemoryVolumeProvider {
  kind = 'bench-memory';

  constructor(count, { selectorMatches, PermanentError }) {
    const width = String(count - 1).length;
    // Sorted by id, as the port requires; every other volume is also tagged "web".
    this.volumes = Array.from({ length: count }, (_, i) => {
      const id = `vol-${String(i).padStart(width, '0')}`;
      return { id, name: `bench-${id}`, tags: i % 2 ? ['prod'] : ['prod', 'web'], sizeBytes: 8 * 2 ** 30 };
    });
    this.snapshots = new Map();
    this.selectorMatches = selectorMatches;
    this.PermanentError = PermanentError;
  }

  async discover(selector) {
    return this.volumes.filter((v) => this.selectorMatches(selector, v)).map((v) => ({ ...v, tags: [...v.tags] }));
  }

  async createSnapshot(volumeId, _tags, clientToken) {
    let ref = this.snapshots.get(clientToken);
    if (!ref) {
      ref = `mem-snap-${clientToken}`;
      this.snapshots.set(clientToken, ref);
    }
    return ref;
  }

  async snapshotState() {
    return 'completed';
  }

  async openSource(volumeId) {
    throw new this.PermanentError(`the bench's in-memory provider cannot read volume ${volumeId}`);
  }

  async deleteSnapshot(ref) {
    for (const [token, r] of this.snapshots) if (r === ref) this.snapshots.delete(token);
  }
}

/**
 * The CLI's fleet logger (packages/cli/src/fleet/fleet-logger.ts: pino, level info, the same
 * base and redaction), writing each line synchronously like its stderr writes on Linux, here to a
 * file instead of a terminal. close() closes the file.
 */
export async function fileLogger(pino, path, bindings) {
  const fd = openSync(path, 'w');
  // As the CLI writes its logs: lines gathered for up to LOG_FLUSH_MS and written together.
  const [{ lineBuffer }, { LOG_FLUSH_MS }] = await Promise.all([
    import('../../../packages/cli/dist/line-buffer.js'),
    import('../../../packages/cli/dist/fleet/fleet-logger.js'),
  ]);
  const buffer = lineBuffer((s) => writeSync(fd, s), LOG_FLUSH_MS);
  const log = pino(
    {
      level: 'info',
      base: { pid: undefined, hostname: os.hostname(), ...bindings },
      redact: { paths: ['password', '*.password', 'token', '*.token', 'auth', '*.auth'], censor: '[redacted]' },
    },
    { write: (s) => buffer.write(s) },
  );
  return {
    log,
    close: () => {
      buffer.flush();
      closeSync(fd);
    },
  };
}

function infoField(text, field) {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`INFO has no ${field}`);
  return Number(m[1].trim());
}

/** INFO memory used_memory (bytes). */
export async function usedMemory(redis) {
  return infoField(await redis.info('memory'), 'used_memory');
}

/** Redis server CPU seconds so far (INFO cpu used_cpu_sys + used_cpu_user). */
export async function redisCpuSeconds(redis) {
  const text = await redis.info('cpu');
  return infoField(text, 'used_cpu_sys') + infoField(text, 'used_cpu_user');
}

/** Every key matching `pattern` (SCAN, never KEYS). */
export async function scanKeys(redis, pattern) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/**
 * Sum of MEMORY USAGE (all nested values sampled) over the keys matching `pattern`, in all and
 * per group (`classify(key)` names a key's group).
 */
export async function keysMemory(redis, pattern, classify = () => 'all') {
  const keys = await scanKeys(redis, pattern);
  let bytes = 0;
  const groups = {};
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const p = redis.pipeline();
    for (const k of batch) p.memory('USAGE', k, 'SAMPLES', '0');
    (await p.exec()).forEach(([err, n], j) => {
      if (err || !n) return;
      bytes += Number(n);
      const g = (groups[classify(batch[j])] ??= { keys: 0, bytes: 0 });
      g.keys++;
      g.bytes += Number(n);
    });
  }
  return { keys: keys.length, bytes, groups };
}

/** Commands the server has processed so far (INFO stats total_commands_processed). */
export async function redisCommands(redis) {
  return infoField(await redis.info('stats'), 'total_commands_processed');
}

/** Deletes every key matching `pattern` (SCAN + UNLINK in batches); returns how many. */
export async function deleteKeys(redis, pattern) {
  const keys = await scanKeys(redis, pattern);
  for (let i = 0; i < keys.length; i += 1000) await redis.unlink(...keys.slice(i, i + 1000));
  return keys.length;
}

/**
 * Plain ioredis options for one Redis server from a redis:// URL, and the two roles BullMQ's
 * production guide asks for (workers: maxRetriesPerRequest null; producers: no offline queue),
 * as the fleet's connector (packages/providers/src/redis) builds them for a single server.
 */
export function redisOptionsFromUrl(url) {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`the bench takes a redis:// or rediss:// URL, got ${u.protocol}`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
export const workerConnection = (base) => ({ ...base, maxRetriesPerRequest: null });
export const producerConnection = (base) => ({ ...base, enableOfflineQueue: false });
