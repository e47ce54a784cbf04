/**
 * The engine's CodecPool over worker threads (piscina), one per core by default: zstd-napi and
 * node:crypto calls are synchronous, so the engine's codec work only spreads over the machine's
 * cores on threads. The engine defines the pool and its tasks (@snapfleet/shared/codec) and never
 * starts a thread itself; composition roots start these and pass the pool in.
 */
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { owns, type CodecPool, type CodecThreads, type HashResult, type MasterKeys } from '@snapfleet/shared/codec';

/**
 * The worker script is the compiled codec-worker.js beside this file. When this module runs from
 * TypeScript sources (vitest), the compiled copy in dist/ is used: worker threads cannot load .ts.
 * Bundled (the CLI's dist/bundle/), this code sits in a chunk file, and the bundle's own
 * codec-worker.mjs entry in the same folder.
 */
function workerFilename(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return here.replace(/\/src\/codec\/thread-codec-pool\.ts$/, '/dist/codec/codec-worker.js');
  if (here.endsWith('/thread-codec-pool.js')) return here.replace(/thread-codec-pool\.js$/, 'codec-worker.js');
  return join(dirname(here), 'codec-worker.mjs');
}

/**
 * The threads run compiled code (codec-worker.js and @snapfleet/shared/codec from dist/), so the
 * `source` export condition a test runner adds must not reach them: it would resolve the
 * workspace packages to TypeScript that a thread cannot load. Without such a flag the threads
 * inherit the process's flags as they are (undefined): passed explicitly, Node checks each one
 * and refuses per-process V8 options such as the launcher's --max-semi-space-size.
 */
function workerExecArgv(): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i]!;
    if (arg === '--conditions' || arg === '-C') i++;
    else if (!arg.startsWith('--conditions=')) out.push(arg);
  }
  return out.length === process.execArgv.length ? undefined : out;
}

export function defaultThreadCount(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Threads start with the first task or with warm(), not here. Node 20 cannot always tear down a
 * thread still loading its module (a fatal error in require() of an ES module mid-load), so close
 * first waits for the threads warm() started: a command that fails before any codec work (an
 * unknown snapshot, a wrong password) then ends cleanly.
 */
export function startCodecThreads(threads = defaultThreadCount()): CodecThreads {
  const execArgv = workerExecArgv();
  const pool = new Piscina({ filename: workerFilename(), ...(execArgv ? { execArgv } : {}), minThreads: 0, maxThreads: threads, idleTimeout: 60_000 });
  // Move the caller's buffer when it owns its memory; otherwise structured clone copies it.
  const buf = (u: Uint8Array): ArrayBuffer[] => (owns(u) ? [u.buffer as ArrayBuffer] : []);
  let warming: Promise<unknown> = Promise.resolve();
  // One task a thread, queued at once: piscina starts a thread for each task it cannot hand to
  // an idle one, so every thread loads its module in parallel.
  const warm = () => {
    warming = Promise.allSettled(Array.from({ length: threads }, () => pool.run(undefined, { name: 'ready' })));
  };
  const close = async () => {
    await warming;
    await pool.destroy();
  };
  return {
    warm,
    withKeys: (keys) => ({
      hashChunks: async (data, chunkSize, ids) => {
        const got = (await pool.run({ data, chunkSize, idKey: keys.idRaw, ...(ids ? { ids } : {}) }, { name: 'hash' })) as HashResult | undefined;
        return ids ?? got!;
      },
      encodeFrame: (raw, level) => pool.run({ raw, level, encKey: keys.encRaw }, { name: 'encodeTask', transferList: buf(raw) }),
      chunkFrames: (job) => pool.run({ ...job, encKey: keys.encRaw }, { name: 'chunkFramesTask' }),
      decodeFrame: (job) => pool.run({ ...job, encKey: keys.encRaw, idKey: keys.idRaw }, { name: 'decodeTask', transferList: buf(job.stored) }),
      decodeWindow: (req) => pool.run({ ...req, encKey: keys.encRaw, idKey: keys.idRaw }, { name: 'windowTask', transferList: req.runs.flatMap(buf) }),
      close,
    }),
    close,
  };
}

export function createThreadCodecPool(keys: MasterKeys, threads = defaultThreadCount()): CodecPool {
  return startCodecThreads(threads).withKeys(keys);
}
