/**
 * Repository: a BlobStore opened with its config and master keys: the index it loads, and the
 * small reads (snapshots, manifest nodes) every operation shares. Creating and opening one is in
 * repository-open.ts.
 */
import { createHmac } from 'node:crypto';
import { isArchiveStorageClass, type BlobStore, type ObjectInfo, type PutOptions } from '../ports/blob-store.js';
import type { DedupIndexCache, IndexObjectView } from '../ports/dedup-index.js';
import { InvalidInputError, NotFoundError, NotRetrievedError, CorruptDataError, PermanentError } from '../errors.js';
import { VOLUME_SNAPSHOTS_VERSION } from '../format/codec-ids.js';
import { CONFIG_KEY, DATA_PREFIX, PRUNE_PREFIX, SNAPSHOTS_PREFIX, idFromKey, indexKey, packKey, snapshotKey, volumeSnapshotsPrefix } from '../format/layout.js';
import { decodeMarker, type DeletionMarker } from '../format/deletion-marker.js';
import { parseConfig, type RepoConfig } from '../format/repo-config.js';
import type { MasterKeys } from '../format/master-keys.js';
import { decodeEnvelope, encodeEnvelope } from '../format/envelope.js';
import { decodeIndexPayload, encodeIndexPayload, type IndexedPack } from '../format/index-object.js';
import { decodePackHeader, TRAILER_BYTES } from '../format/pack-header.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot, type SnapshotEntry } from '../format/snapshot.js';
import { volumeKey } from '../format/volume-key.js';
import { BlobIndex } from '../content/blob-index.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { eachIndexedPack, forEachIndexObject, listIndexObjects, readIndexObject } from './index-objects.js';
import { damagedPackIds } from './damage-records.js';
import { listSnapshotKeys, readSnapshotAt, readSnapshots, type SnapshotListOptions } from './snapshot-objects.js';

/** Bytes read from a pack's end to find its header: see readPackHeader. */
const PACK_TAIL_READ_BYTES = 256 * 1024;

/** The blob index as an archive must see it (without condemned packs) or as readers do. */
export type IndexView = 'read' | 'write';

export class Repository {
  private loaded: { view: IndexView; index: BlobIndex } | undefined;
  /** Set when a repository opened at format 1 was found migrated (newSnapshotKey). */
  private upgradedTo: number | undefined;

  constructor(
    readonly store: BlobStore,
    readonly config: RepoConfig,
    readonly keys: MasterKeys,
    /** The host's index table, if the composition root gave one (OpenOptions.dedupCache). */
    readonly dedupCache?: DedupIndexCache,
  ) {}

  /** How packs are put: in the repository's pack storage class, when it has one. */
  get packPut(): PutOptions {
    return this.config.packStorageClass ? { storageClass: this.config.packStorageClass } : {};
  }

  /**
   * Whether data packs are in an archive storage class (GLACIER, DEEP_ARCHIVE): reading one
   * needs a retrieval first (engine/retrieval.ts), so nothing but a restore that asked for it
   * reads them, and manifests are written into packs of their own in the default class.
   */
  get archivedPacks(): boolean {
    return isArchiveStorageClass(this.config.packStorageClass);
  }

  /** How manifest packs are put when they are packs of their own (archive classes); undefined: maps share the data packs. */
  get mapPut(): PutOptions | undefined {
    return this.archivedPacks ? {} : undefined;
  }

  /** The key file (its id under `keys/`) whose password opened the repository; unset when unencrypted. */
  keyFileId: string | undefined;

  /**
   * The index objects as the host's table reads them. Its id names this repository's table in
   * the host's cache: a keyed hash, so a repository created anew at the same location (another
   * id key) never meets the old one's table.
   */
  indexObjectView(): IndexObjectView {
    const repositoryId = createHmac('sha256', this.keys.id).update('snapfleet index table\0').digest('hex').slice(0, 32);
    return {
      repositoryId,
      list: async () => (await listIndexObjects(this)).map((o) => o.key),
      // A damaged object describes nothing the table can use: its packs are not deduplicated
      // against (their content is stored afresh) until `repair index` describes them again.
      read: async (key) => {
        try {
          return await readIndexObject(this, key);
        } catch (err) {
          if (err instanceof CorruptDataError || err instanceof PermanentError) return [];
          throw err;
        }
      },
    };
  }

  get chunkSize(): number {
    return this.config.chunkSize;
  }

  /** The index loaded last (loadIndex first). */
  get index(): BlobIndex {
    if (!this.loaded) throw new Error('index not loaded');
    return this.loaded.index;
  }

  /**
   * Loads every index object. The 'write' view, for archives, leaves out packs that prune has
   * condemned or that were found damaged, so that nothing new comes to depend on them. Readers use the 'read' view: every
   * pack. Neither adopts orphan packs: prune and maintenance do (engine/orphan-adoption.ts).
   */
  async loadIndex(options: { view?: IndexView } = {}): Promise<BlobIndex> {
    const view = options.view ?? 'read';
    if (this.loaded?.view === view) return this.loaded.index;
    const condemned = view === 'write' ? await this.excludedPacks() : new Set<string>();
    // A damaged index object is passed over: an archive stores its packs' content afresh, a
    // restore reads its packs through its pack list (verify reports it; `repair index` fixes it).
    const index = await this.buildIndex(condemned, { skipDamaged: true });
    this.loaded = { view, index };
    return index;
  }

  /**
   * Forgets the loaded index. An archive calls it when it ends: the packs it stored are not in
   * the index it loaded, so a later operation of this process must load the index again.
   */
  forgetIndex(): void {
    this.loaded = undefined;
  }

  /**
   * A fresh index of every indexed pack but those in `exclude` (not cached, adopts nothing). A
   * damaged index object fails it, unless `skipDamaged` (prune's callers must see every pack).
   */
  async buildIndex(exclude: ReadonlySet<string> = new Set(), options: { skipDamaged?: boolean } = {}): Promise<BlobIndex> {
    const index = new BlobIndex();
    await forEachIndexObject(
      this,
      (packs) => {
        for (const pack of packs) if (!exclude.has(pack.packId)) index.addPack(pack);
      },
      METADATA_READS_IN_FLIGHT,
      options.skipDamaged ? () => {} : undefined,
    );
    return index;
  }

  /** Every indexed pack with its frames, once each, one index object in memory at a time. */
  indexedPacks(): AsyncGenerator<IndexedPack> {
    return eachIndexedPack(this);
  }

  /** One pack's description: from its index object, else from its own header; undefined if gone. */
  async describePack(packId: string): Promise<IndexedPack | undefined> {
    try {
      const key = indexKey(packId);
      const found = decodeIndexPayload(decodeEnvelope(await this.store.get(key), this.keys.enc, key), key).find((p) => p.packId === packId);
      if (found) return found;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const info = await this.store.stat(packKey(packId));
    if (!info) return undefined;
    return { packId, packLength: info.size, frames: await this.readPackHeader(packKey(packId), info.size) };
  }

  /**
   * Packs nothing new may depend on: condemned by prune, or recorded as damaged (a new archive
   * stores their content afresh rather than pointing at a broken copy).
   */
  async excludedPacks(): Promise<Set<string>> {
    const out = await this.condemnedPacks();
    for (const packId of await damagedPackIds(this)) out.add(packId);
    return out;
  }

  /** Packs listed in any deletion marker. */
  async condemnedPacks(): Promise<Set<string>> {
    const out = new Set<string>();
    for (const m of await this.loadMarkers()) for (const p of m.marker.packs) out.add(p);
    return out;
  }

  /**
   * Every deletion marker that reads. One that does not (damaged, or junk) is passed over:
   * verify reports it and `repair index` deletes it. A marker acts only through the prune that
   * reads it, and no prune can read that one, so no later prune deletes what it lists; only the
   * prune that wrote it, if it still runs, acts on its own copy in memory.
   */
  async loadMarkers(): Promise<{ key: string; marker: DeletionMarker }[]> {
    const keys = (await collect(this.store.list(PRUNE_PREFIX))).map((o) => o.key);
    const loaded = await mapLimit(keys, METADATA_READS_IN_FLIGHT, async (key) => {
      try {
        return { key, marker: decodeMarker(decodeEnvelope(await this.store.get(key), this.keys.enc, key), key) };
      } catch (err) {
        if (err instanceof NotFoundError) return undefined; // a prune finished it meanwhile
        if (err instanceof CorruptDataError || err instanceof PermanentError) return undefined;
        throw err;
      }
    });
    return loaded.filter((m): m is { key: string; marker: DeletionMarker } => !!m);
  }

  /**
   * Writes the index object of every pack the store lists that has none (`known` says it has
   * one, or must not be adopted: condemned), handing each adopted pack to `adopted`. Call it
   * under the prune lease (engine/orphan-adoption.ts).
   */
  async adoptOrphanPacks(known: (packId: string) => boolean, adopted: (pack: IndexedPack) => void): Promise<void> {
    // Filtered as listed: only the orphans (a few) are held, not a listing of every pack.
    const orphans: ObjectInfo[] = [];
    for await (const o of this.store.list(DATA_PREFIX)) {
      const id = idFromKey(o.key);
      if (id !== undefined && !known(id)) orphans.push(o);
    }
    await mapLimit(orphans, METADATA_READS_IN_FLIGHT, async (o) => {
      const packId = idFromKey(o.key)!;
      let frames;
      try {
        frames = await this.readPackHeader(o.key, o.size);
      } catch (err) {
        // Damaged, gone, or still being written (some S3-compatible servers list an upload
        // before it ends; its "tail" is then any bytes at all): not adoptable now. Verify
        // reports real damage.
        if (err instanceof CorruptDataError || err instanceof NotFoundError) return;
        // An orphan in an archive storage class cannot be read without a retrieval: it stays
        // an orphan (its blobs are stored again by the next archive that needs them).
        if (err instanceof NotRetrievedError) return;
        if ((await this.store.stat(o.key))?.size !== o.size) return;
        throw err;
      }
      const indexed = { packId, packLength: o.size, frames };
      await this.store.put(indexKey(packId), encodeEnvelope(encodeIndexPayload([indexed]), this.keys.enc));
      adopted(indexed);
    });
  }

  /**
   * Reads a pack's header from its tail: one ranged read of the last PACK_TAIL_READ_BYTES, which
   * holds the header of a pack of 4 KiB chunks up to 16 MiB (~150 KiB); a larger header costs a
   * second read.
   */
  async readPackHeader(key: string, size: number) {
    if (size < TRAILER_BYTES) throw new CorruptDataError(`${key}: too short to be a pack`, { object: key });
    const length = Math.min(size, PACK_TAIL_READ_BYTES);
    const read = await this.store.get(key, { offset: size - length, length });
    const tail = Buffer.from(read.buffer, read.byteOffset, read.byteLength);
    const headerLength = tail.readUInt32LE(length - TRAILER_BYTES);
    if (headerLength + TRAILER_BYTES > size) throw new CorruptDataError(`${key}: header length ${headerLength} exceeds the pack`, { object: key });
    const header =
      headerLength + TRAILER_BYTES <= length
        ? tail.subarray(length - TRAILER_BYTES - headerLength, length - TRAILER_BYTES)
        : await this.store.get(key, { offset: size - TRAILER_BYTES - headerLength, length: headerLength });
    try {
      return decodePackHeader(decodeEnvelope(header, this.keys.enc, key), key);
    } catch (err) {
      // A pack's tail that claims a newer envelope is no header at all: the pack was cut short
      // or damaged (a release that writes newer envelopes also writes a newer config, which
      // this release would have refused to open).
      if (err instanceof PermanentError)
        throw new CorruptDataError(`${key}: its tail is no pack header (cut short or damaged): ${err.message}`, { object: key }, { cause: err });
      throw err;
    }
  }

  /** The format version whose snapshot layout applies: the config's, or a newer one found since. */
  get formatVersion(): number {
    return this.upgradedTo ?? this.config.version;
  }

  /** The name of a volume's folder of snapshot objects (format/volume-key.ts). */
  volumeKey(volumeId: string): string {
    return volumeKey(this.keys.id, volumeId);
  }

  async saveSnapshot(snapshot: Snapshot): Promise<string> {
    const { id, payload } = encodeSnapshot(snapshot);
    await this.store.put(await this.newSnapshotKey(id, snapshot.volumeId), encodeEnvelope(payload, this.keys.enc));
    return id;
  }

  /**
   * Stores a snapshot object's plaintext as given (a copy from another repository keeps its
   * bytes, and so its id); refuses bytes that do not hash to `id`.
   */
  async saveSnapshotPayload(id: string, volumeId: string, payload: Uint8Array): Promise<void> {
    decodeSnapshot(payload, id);
    await this.store.put(await this.newSnapshotKey(id, volumeId), encodeEnvelope(payload, this.keys.enc));
  }

  /** The key a snapshot of `volumeId` is stored under in this repository's layout. */
  snapshotKeyFor(id: string, volumeId: string): string {
    return this.formatVersion < VOLUME_SNAPSHOTS_VERSION ? snapshotKey(id) : snapshotKey(id, this.volumeKey(volumeId));
  }

  /**
   * Where a new snapshot goes. A repository opened at format 1 may have been migrated since
   * (an archive runs for hours, a fleet worker keeps a repository open for days), so its config
   * is read again first: a flat snapshot stored after the upgrade would be missed by per-volume
   * listings. engine/migrate.ts relies on this re-read.
   */
  private async newSnapshotKey(id: string, volumeId: string): Promise<string> {
    if (this.formatVersion < VOLUME_SNAPSHOTS_VERSION) {
      const current = parseConfig(await this.store.get(CONFIG_KEY)).version;
      if (current >= VOLUME_SNAPSHOTS_VERSION) this.upgradedTo = current;
    }
    return this.formatVersion < VOLUME_SNAPSHOTS_VERSION ? snapshotKey(id) : snapshotKey(id, this.volumeKey(volumeId));
  }

  /**
   * One snapshot by full id. With its volume id the key is known (the per-volume key is tried,
   * then the flat one); without, every snapshot key is listed (no objects read) to find it.
   */
  async loadSnapshot(id: string, volumeId?: string): Promise<Snapshot> {
    const keys = volumeId === undefined ? await this.snapshotKeysOf(id) : [snapshotKey(id, this.volumeKey(volumeId)), snapshotKey(id)];
    for (const key of keys) {
      try {
        return await readSnapshotAt(this, key, id);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    throw new NotFoundError(`no snapshot ${id} in ${this.store.location}`);
  }

  /** Every key the snapshot `id` is stored under (two while a migration is under way), by listing. */
  async snapshotKeysOf(id: string): Promise<string[]> {
    return ((await listSnapshotKeys(this.store, SNAPSHOTS_PREFIX)).get(id) ?? []).map((k) => k.key);
  }

  /**
   * Every readable snapshot of the repository, oldest first; each object is read. A damaged
   * snapshot object is passed to `onDamaged` and left out, so one bad object never hides the
   * others; `strict` makes it an error instead (prune must never treat data as unreferenced
   * just because the snapshot that references it could not be read).
   */
  async listSnapshots(options: SnapshotListOptions = {}): Promise<SnapshotEntry[]> {
    return readSnapshots(this, SNAPSHOTS_PREFIX, options);
  }

  /**
   * One volume's snapshots, oldest first, reading only that volume's objects: its folder
   * `snapshots/<volume key>/`. A format-1 repository (or one whose migration is not finished)
   * also has flat keys, which do not say their volume: there every key is listed, and the flat
   * objects are read and filtered.
   */
  async listVolumeSnapshots(volumeId: string, options: SnapshotListOptions = {}): Promise<SnapshotEntry[]> {
    const own = this.volumeKey(volumeId);
    const entries =
      this.formatVersion < VOLUME_SNAPSHOTS_VERSION
        ? await readSnapshots(this, SNAPSHOTS_PREFIX, options, (keys) => keys.every((k) => k.volumeKey === undefined || k.volumeKey === own))
        : await readSnapshots(this, volumeSnapshotsPrefix(own), options);
    return entries.filter((e) => e.snapshot.volumeId === volumeId);
  }

  /**
   * Resolves `latest`, `latest-intact`, a full id or a unique id prefix (as restic does) to a
   * snapshot. `latest` refuses while a snapshot object in scope is damaged: it might be the
   * newest, and a scripted recovery must not get older data with only a warning. `latest-intact`
   * is the newest snapshot whose object reads, for an operator who accepts that.
   */
  async findSnapshot(ref: string, volumeId?: string, onDamaged?: (id: string, err: CorruptDataError) => void): Promise<SnapshotEntry> {
    const damaged: string[] = [];
    const options = {
      onDamaged: (id: string, err: CorruptDataError) => {
        damaged.push(id);
        onDamaged?.(id, err);
      },
    };
    // An id or prefix is matched against the keys first, so only its own object is read: a restore
    // by id costs the same in a repository of ten snapshots or of a million.
    const latest = ref === 'latest' || ref === LATEST_INTACT;
    const scoped = latest ? options : { ...options, idPrefix: ref };
    const all = volumeId ? await this.listVolumeSnapshots(volumeId, scoped) : await this.listSnapshots(scoped);
    const scope = volumeId ? ` of volume ${volumeId}` : '';
    if (latest) {
      if (ref === 'latest' && damaged.length > 0) {
        throw new CorruptDataError(
          `the latest snapshot${scope} cannot be told: snapshot object ${damaged[0]}${damaged.length > 1 ? ` (and ${damaged.length - 1} more)` : ''} is damaged and may be the newest; ` +
            `name a snapshot by id, or use ${LATEST_INTACT} for the newest one that reads`,
          { snapshotId: damaged[0]! },
        );
      }
      const last = all.at(-1);
      if (!last) throw new NotFoundError(`no snapshot${scope} in ${this.store.location}`);
      return last;
    }
    // Read with idPrefix: every entry matches.
    if (all.length === 0) throw new NotFoundError(`no snapshot ${ref}${scope} in ${this.store.location}`);
    if (all.length > 1) throw new InvalidInputError(`snapshot prefix ${ref} is ambiguous (${all.length} matches)`, 'snapshot');
    return all[0]!;
  }
}

/** The snapshot reference for the newest snapshot whose object reads, damaged ones left out. */
export const LATEST_INTACT = 'latest-intact';
