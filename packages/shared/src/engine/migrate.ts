/**
 * Migrate: upgrades a repository in place to the current format version. Format 2 moved every
 * snapshot object from the flat `snapshots/<id>` to `snapshots/<volume key>/<id>`, so that one
 * volume's snapshots are listed without reading every snapshot of the repository
 * (docs/format.md, "Snapshot" and the changes log).
 *
 * The order makes a run killed at any point harmless, and the next run finishes the job: each
 * flat object is stored under its volume's key (the same bytes) before its flat key is deleted,
 * and readers of either version list both forms and take an id once; `config`, the one mutable
 * object (and a put is atomic), is rewritten last, only when no flat object is left. The run
 * holds the exclusive prune lease, so no prune computes its live set while objects move.
 */
import type { Clock } from '../ports/clock.js';
import type { ProcessIdentity } from '../ports/process-identity.js';
import { CorruptDataError, NotFoundError } from '../errors.js';
import { FORMAT_VERSION } from '../format/codec-ids.js';
import { decodeEnvelope } from '../format/envelope.js';
import { CONFIG_KEY, SNAPSHOTS_PREFIX, snapshotKey, type SnapshotKey } from '../format/layout.js';
import { encodeConfig, parseConfig } from '../format/repo-config.js';
import { decodeSnapshot } from '../format/snapshot.js';
import { mapLimit } from '../content/map-limit.js';
import { acquireExclusiveLease, liveLeases } from './leases.js';
import { listSnapshotKeys } from './snapshot-objects.js';
import type { Repository } from './repository.js';

/** Small objects moved in parallel: each move is three or four requests of ~10-50 ms. */
const MOVES_IN_FLIGHT = 16;

export interface MigrateOptions {
  clock: Clock;
  /** Recorded in the lease, so that a prune this run blocks can say where it runs. */
  hostname?: string;
  /** This process, for the lease; lets a run take over from one that died on this machine. */
  identity?: ProcessIdentity;
}

export interface MigrateReport {
  /** The config's version when this run started. */
  fromVersion: number;
  /** The config's version now. */
  version: number;
  /** Flat snapshot objects this run moved under their volume's key. */
  moved: number;
  /**
   * Archives running when the run ended. One that read the config before the upgrade may still
   * store its snapshot under a flat key; running migrate again once they have finished moves it.
   */
  runningArchives: number;
}

export async function migrateRepository(repo: Repository, options: MigrateOptions): Promise<MigrateReport> {
  const lease = await acquireExclusiveLease(repo, options.clock, 'prune', {
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  try {
    const config = parseConfig(await repo.store.get(CONFIG_KEY));
    let moved = await moveFlatSnapshots(repo, config.version);
    if (config.version < FORMAT_VERSION) await repo.store.put(CONFIG_KEY, encodeConfig({ ...config, version: FORMAT_VERSION }));
    // A writer that opened the repository at format 1 reads the config again just before it
    // stores a snapshot (Repository.saveSnapshot), holding its archive lease, stored earlier.
    // One that read it before the upgrade and has finished stored its flat snapshot before
    // this listing of leases, so the second pass finds it; one still running is reported.
    const running = await liveLeases(repo, options.clock, 'archive', options.identity);
    moved += await moveFlatSnapshots(repo, FORMAT_VERSION);
    return { fromVersion: config.version, version: Math.max(config.version, FORMAT_VERSION), moved, runningArchives: running.length };
  } finally {
    await lease.release();
  }
}

/** Moves every flat snapshot object under its volume key; returns how many it moved. */
async function moveFlatSnapshots(repo: Repository, version: number): Promise<number> {
  const flat: SnapshotKey[] = [];
  for (const keys of (await listSnapshotKeys(repo.store, SNAPSHOTS_PREFIX)).values()) flat.push(...keys.filter((k) => k.volumeKey === undefined));
  const damaged: CorruptDataError[] = [];
  const moved = await mapLimit(flat, MOVES_IN_FLIGHT, async (k) => {
    try {
      return await moveSnapshot(repo, k);
    } catch (err) {
      if (!(err instanceof CorruptDataError)) throw err;
      damaged.push(err);
      return false;
    }
  });
  if (damaged.length > 0) {
    const ids = damaged.map((e) => e.site.snapshotId ?? e.site.object ?? '?');
    throw new CorruptDataError(
      `migrate stopped: ${damaged.length} snapshot object(s) cannot be read, so their volume is unknown (${ids.join(', ')}; first: ${damaged[0]!.message}). ` +
        `The repository stays at format version ${version} and fully readable. Remove the damaged snapshot with \`snapfleet forget ID\`, then run migrate again`,
      damaged[0]!.site,
      { cause: damaged[0] },
    );
  }
  return moved.filter(Boolean).length;
}

/**
 * One flat object to its volume key: put, then delete the flat key. forget deletes the flat key
 * before the per-volume one (removeSnapshots), so a flat key gone after the put means a forget
 * ran since the read and may have missed the new copy: the copy goes too.
 */
async function moveSnapshot(repo: Repository, { key, id }: SnapshotKey): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = await repo.store.get(key);
  } catch (err) {
    if (err instanceof NotFoundError) return false; // forgotten meanwhile
    throw err;
  }
  const snapshot = decodeSnapshot(decodeEnvelope(bytes, repo.keys.enc, key), id, key);
  const target = snapshotKey(id, repo.volumeKey(snapshot.volumeId));
  await repo.store.put(target, bytes);
  if (!(await repo.store.stat(key))) {
    await repo.store.delete(target);
    return false;
  }
  await repo.store.delete(key);
  return true;
}
