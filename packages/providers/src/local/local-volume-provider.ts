/**
 * LocalVolumeProvider: the embedded default's VolumeProvider. Volumes are the image files and
 * block devices the configuration lists (id -> path, name, tags).
 *
 * A "snapshot" of a local volume is a point in time recorded without copying: the ref names the
 * volume and the job's client token, and the archive reads the file as it is when it runs. The
 * data is therefore only consistent if nothing writes the volume meanwhile: quiesce the writer,
 * or list LVM / ZFS / btrfs snapshots (or reflink copies) as the volumes (docs/operations.md).
 * State is always `completed`; deleting is a no-op.
 */
import { stat } from 'node:fs/promises';
import {
  InvalidInputError,
  NotFoundError,
  type ScratchTargets,
  type DiscoveredVolume,
  type ProviderSnapshot,
  type SnapshotRef,
  type SnapshotState,
  type VolumeProvider,
  type VolumeSelectorSpec,
  type VolumeSource,
} from '@snapfleet/shared';
import { selectorMatches } from '@snapfleet/shared/config';
import { LocalVolumeSource, type LocalVolumeSourceOptions } from './local-volume-source.js';
import { blockDeviceSizeBytes } from './block-device.js';
import { localScratchFiles } from './local-scratch-file.js';

export interface LocalVolumeSpec {
  path: string;
  name?: string;
  tags?: readonly string[];
}

/** `local:` + JSON keeps the ref self-describing and free of path-separator ambiguity. */
const REF_PREFIX = 'local:';

interface LocalRef {
  volumeId: string;
  token: string;
}

export class LocalVolumeProvider implements VolumeProvider {
  readonly kind = 'local';
  /** Drill scratch copies: files in the OS temp directory (`drill.target: file` picks the directory). */
  readonly scratch: ScratchTargets = localScratchFiles();

  constructor(
    private readonly volumes: Readonly<Record<string, LocalVolumeSpec>>,
    private readonly sourceOptions: LocalVolumeSourceOptions = {},
  ) {}

  async discover(selector: VolumeSelectorSpec): Promise<DiscoveredVolume[]> {
    const out: DiscoveredVolume[] = [];
    for (const id of Object.keys(this.volumes).sort()) {
      const spec = this.volumes[id]!;
      const volume = { id, name: spec.name ?? id, tags: [...(spec.tags ?? [])] };
      if (!selectorMatches(selector, volume)) continue;
      // A missing file is still listed: its snapshot job then fails with the path in the message,
      // rather than the volume silently dropping out of the policy.
      out.push({ ...volume, sizeBytes: await sizeOf(spec.path) });
    }
    return out;
  }

  async createSnapshot(volumeId: string, _tags: readonly string[], clientToken: string): Promise<SnapshotRef> {
    const spec = this.spec(volumeId);
    if (!clientToken) throw new InvalidInputError('client token must not be empty', 'clientToken');
    try {
      await stat(spec.path);
    } catch {
      throw new NotFoundError(`volume ${volumeId}: ${spec.path} does not exist or cannot be read`);
    }
    // Deterministic from the token: a retried job gets the same ref, nothing is created twice.
    return REF_PREFIX + JSON.stringify({ volumeId, token: clientToken } satisfies LocalRef);
  }

  async snapshotState(ref: SnapshotRef): Promise<SnapshotState> {
    parseRef(ref);
    return 'completed';
  }

  async openSource(volumeId: string, ref: SnapshotRef): Promise<VolumeSource> {
    const parsed = parseRef(ref);
    if (parsed.volumeId !== volumeId) throw new InvalidInputError(`snapshot ${ref} is not of volume ${volumeId}`, 'ref');
    return LocalVolumeSource.open(this.spec(volumeId).path, this.sourceOptions);
  }

  async listSnapshots(_volumeId: string, _tags: readonly string[]): Promise<ProviderSnapshot[]> {
    // Nothing is kept between a snapshot job and its archive, also for a volume that left the
    // config (its orphans have no snapshots here to expire).
    return [];
  }

  async deleteSnapshot(ref: SnapshotRef): Promise<void> {
    parseRef(ref); // nothing was copied, nothing to delete
  }

  /** The configured volumes' paths, by id (a drill refuses to write over one). */
  volumePaths(): { id: string; path: string }[] {
    return Object.entries(this.volumes).map(([id, spec]) => ({ id, path: spec.path }));
  }

  private spec(volumeId: string): LocalVolumeSpec {
    const spec = this.volumes[volumeId];
    if (!spec) throw new NotFoundError(`volume ${volumeId} is not in the configuration`);
    return spec;
  }
}

function parseRef(ref: SnapshotRef): LocalRef {
  if (!ref.startsWith(REF_PREFIX)) throw new InvalidInputError(`not a local snapshot ref: ${ref}`, 'ref');
  try {
    const v = JSON.parse(ref.slice(REF_PREFIX.length)) as LocalRef;
    if (typeof v.volumeId === 'string' && typeof v.token === 'string') return v;
  } catch {
    // fall through
  }
  throw new InvalidInputError(`malformed local snapshot ref: ${ref}`, 'ref');
}

async function sizeOf(path: string): Promise<number> {
  try {
    const info = await stat(path);
    return info.isBlockDevice() ? await blockDeviceSizeBytes(path) : info.size;
  } catch {
    return 0;
  }
}
