/**
 * The repositories a worker archives into, opened once per process: the password is read and
 * the key file unwrapped (scrypt: slow on purpose) on first use, and one thread codec pool per
 * repository is shared by every job of this process. Each `open` hands out a fresh Repository
 * over the cached keys, so every job loads the current index (a cached index could still name
 * packs a prune deleted since). A reload (`update`) drops the cached keys of a repository whose
 * location or password source changed; its pool is closed with the others at `close`, because a
 * job that opened it before the reload may still be using it.
 */
import { readFile } from 'node:fs/promises';
import {
  InvalidInputError,
  Repository,
  openRepository,
  type BlobStore,
  type Clock,
  type CodecPool,
  type DedupIndexCache,
  type RepoConfig,
} from '@snapfleet/shared';
import type { FleetConfig, RepositoryConfig } from '@snapfleet/shared/config';
import { createThreadCodecPool, hostIndexTableFor, openBlobStore } from '@snapfleet/providers';

export interface OpenedRepository {
  repo: Repository;
  pool: CodecPool;
  settings: RepositoryConfig;
}

export interface FleetRepositories {
  open(name: string): Promise<OpenedRepository>;
  /** Takes a reloaded `repositories` section: later opens use it. */
  update(repositories: FleetConfig['repositories']): void;
  close(): Promise<void>;
}

export interface FleetRepositoriesOptions {
  repositories: FleetConfig['repositories'];
  /** The environment map from the composition root (passwords, S3 settings). */
  env: Readonly<Record<string, string | undefined>>;
  /** Threads per repository pool. @defaultValue one per core */
  codecThreads?: number;
  /** Where the stores' warnings go (the host's index cache: a damaged file, an unusable folder). */
  onWarning?: (message: string) => void;
  openStore?: (url: string, env: Readonly<Record<string, string | undefined>>) => BlobStore | Promise<BlobStore>;
  /** What Object Lock retention dates count from (repositories under Object Lock open only with one). */
  clock?: Clock;
}

interface Cached {
  store: BlobStore;
  config: RepoConfig;
  keys: Repository['keys'];
  pool: CodecPool;
  /** The host index table the repository's archives look blobs up in, when the host has a cache. */
  dedupCache: DedupIndexCache | undefined;
}

const DEFAULT_PASSWORD_ENV = 'SNAPFLEET_PASSWORD';

/** What a repository's store and keys are made from: a change of any of these needs a fresh open. */
function sourceOf(r: RepositoryConfig): string {
  return JSON.stringify([r.url, r.passwordFile ?? null, r.passwordEnv ?? null]);
}

async function passwordFor(name: string, r: RepositoryConfig, env: FleetRepositoriesOptions['env']): Promise<string | undefined> {
  if (r.passwordFile) {
    let text: string;
    try {
      text = await readFile(r.passwordFile, 'utf8');
    } catch (err) {
      throw new InvalidInputError(
        `repositories.${name}.passwordFile: cannot read ${r.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        'passwordFile',
      );
    }
    const password = text.replace(/\r?\n$/, '');
    if (!password) throw new InvalidInputError(`repositories.${name}.passwordFile: ${r.passwordFile} is empty`, 'passwordFile');
    return password;
  }
  return env[r.passwordEnv ?? DEFAULT_PASSWORD_ENV] || undefined;
}

export function createFleetRepositories(options: FleetRepositoriesOptions): FleetRepositories {
  const cache = new Map<string, Promise<Cached>>();
  const retired: Promise<Cached>[] = [];
  let repositories = options.repositories;
  const openStore = options.openStore ?? ((url, env) => openBlobStore(url, env, options.onWarning ? { onWarning: options.onWarning } : {}));

  async function load(name: string, settings: RepositoryConfig): Promise<Cached> {
    const store = await openStore(settings.url, options.env);
    const password = await passwordFor(name, settings, options.env);
    const repo = await openRepository(store, { ...(password === undefined ? {} : { password }), ...(options.clock ? { clock: options.clock } : {}) });
    const dedupCache = hostIndexTableFor(store, options.env, options.onWarning ? { onWarning: options.onWarning } : {});
    // repo.store, not store: under Object Lock it is the wrapper that gives puts their retention.
    return { store: repo.store, config: repo.config, keys: repo.keys, pool: createThreadCodecPool(repo.keys, options.codecThreads), dedupCache };
  }

  return {
    async open(name) {
      const settings = repositories[name];
      if (!settings) throw new InvalidInputError(`repository ${name} is not in this worker's configuration`, 'repository');
      let entry = cache.get(name);
      if (!entry) {
        const loading = load(name, settings);
        entry = loading;
        cache.set(name, entry);
        // A failed open (store unreachable) is not cached: the job's retry tries again.
        entry.catch(() => {
          if (cache.get(name) === loading) cache.delete(name);
        });
      }
      const c = await entry;
      return { repo: new Repository(c.store, c.config, c.keys, c.dedupCache), pool: c.pool, settings };
    },
    update(next) {
      for (const name of [...cache.keys()]) {
        const before = repositories[name];
        const after = next[name];
        if (before && after && sourceOf(before) === sourceOf(after)) continue;
        retired.push(cache.get(name)!);
        cache.delete(name);
      }
      repositories = next;
    },
    async close() {
      const entries = await Promise.allSettled([...cache.values(), ...retired]);
      cache.clear();
      retired.length = 0;
      await Promise.allSettled(entries.flatMap((e) => (e.status === 'fulfilled' ? [e.value.pool.close()] : [])));
    },
  };
}
