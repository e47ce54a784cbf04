/**
 * A block device given to restore drills (`drill.target: { device: /dev/… }`): restored onto in
 * place and kept. Before anything is written the drill refuses a device that is in use (mounted,
 * a partition of it mounted, or held open exclusively: swap, LVM, RAID), one that is one of the
 * fleet's own volumes, and one smaller than the volume. A regular file stands in for a device
 * (tests, hosts without a spare disk): its size is its capacity, and it is replaced whole.
 */
import { constants } from 'node:fs';
import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { InvalidInputError, type ScratchTarget } from '@snapfleet/shared';
import { blockDeviceSizeBytes, isMountedDevice } from './block-device.js';
import { errorCode } from './fs-errors.js';
import { LocalVolumeSource } from './local-volume-source.js';
import { LocalVolumeTarget } from './local-volume-target.js';

export interface DrillDeviceRequest {
  /** Bytes the restore writes. */
  sizeBytes: number;
  /** Volumes the device must not be (the fleet's local volumes). */
  volumes: ReadonlyArray<{ id: string; path: string }>;
  /** The config field, for errors ("policies.nightly.drill.target.device"). */
  field: string;
}

/** Checks `device` (see the module comment) and returns it as a drill's scratch target. */
export async function openDrillDevice(device: string, request: DrillDeviceRequest): Promise<ScratchTarget> {
  const { field } = request;
  const refuse = (why: string) => new InvalidInputError(`${field}: ${device} ${why}`, field);
  const info = await stat(device).catch((err: unknown) => {
    throw refuse(errorCode(err) === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`);
  });
  if (!info.isBlockDevice() && !info.isFile()) throw refuse('is neither a block device nor a regular file');
  const same = await sameAsVolume(device, info, request.volumes);
  if (same) throw refuse(`is volume ${same} of the fleet (${request.volumes.find((v) => v.id === same)!.path}); a drill writes over the whole device`);
  if (info.isBlockDevice()) {
    if (await isMountedDevice(device)) throw refuse('is mounted (or a partition of it is); a drill writes over the whole device');
    await checkNotHeld(device, refuse);
  } else {
    const loop = await loopBackedBy(device);
    if (loop) throw refuse(`backs loop device ${loop}; a drill writes over the whole file`);
  }
  const capacity = info.isBlockDevice() ? await blockDeviceSizeBytes(device) : info.size;
  if (capacity < request.sizeBytes) throw refuse(`holds ${capacity} bytes, fewer than the ${request.sizeBytes} of the volume drilled`);
  return {
    // A file stand-in is replaced whole (written beside it, renamed over it): `overwrite`.
    target: new LocalVolumeTarget(device, { overwrite: info.isFile() }),
    readBack: () => LocalVolumeSource.open(device, { sizeBytes: request.sizeBytes }),
    dispose: async () => {}, // the device is the operator's: kept, holding the last drill's copy
  };
}

/** The id of the fleet volume that `device` is (same path, same device number, same file). */
async function sameAsVolume(device: string, info: Awaited<ReturnType<typeof stat>>, volumes: DrillDeviceRequest['volumes']): Promise<string | undefined> {
  const real = await realpath(device).catch(() => device);
  for (const v of volumes) {
    if ((await realpath(v.path).catch(() => v.path)) === real) return v.id;
    const other = await stat(v.path).catch(() => undefined);
    if (!other) continue;
    if (info.isBlockDevice() && other.isBlockDevice() && other.rdev === info.rdev) return v.id;
    if (info.isFile() && other.isFile() && other.dev === info.dev && other.ino === info.ino) return v.id;
  }
  return undefined;
}

/**
 * Linux opens a block device with O_EXCL only when nothing else holds it (a mounted file system,
 * swap, device-mapper, md): EBUSY then. The probe is closed at once.
 */
async function checkNotHeld(device: string, refuse: (why: string) => Error): Promise<void> {
  try {
    const fh = await open(device, constants.O_RDONLY | constants.O_EXCL);
    await fh.close();
  } catch (err) {
    if (errorCode(err) === 'EBUSY') throw refuse('is in use (mounted, swap, or held by LVM or RAID); a drill writes over the whole device');
    throw refuse(`cannot be opened (${(err as Error).message})`);
  }
}

/** The loop device whose backing file is `path`, if any (/sys/block/loopN/loop/backing_file). */
async function loopBackedBy(path: string): Promise<string | undefined> {
  const real = await realpath(path).catch(() => path);
  for (const name of await readdir('/sys/block').catch(() => [] as string[])) {
    if (!name.startsWith('loop')) continue;
    const backing = await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => undefined);
    if (backing?.trim() === real) return `/dev/${name}`;
  }
  return undefined;
}
