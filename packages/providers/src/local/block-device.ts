/**
 * Block-device facts Node does not expose: fs.stat reports size 0 for a device, so the size comes
 * from sysfs (/sys/dev/block/MAJOR:MINOR/size, in 512-byte sectors whatever the device's own
 * sector size).
 */
import { readFile, stat } from 'node:fs/promises';
import { PermanentError } from '@snapfleet/shared';

/** sysfs always counts in 512-byte units (the kernel's SECTOR_SIZE), not the device's sectors. */
const SYSFS_SECTOR_BYTES = 512;

/** Splits a Linux dev_t the way glibc's major()/minor() do (12-bit major, 20-bit minor, split). */
export function splitDeviceNumber(rdev: bigint): { major: bigint; minor: bigint } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major, minor };
}

export async function blockDeviceSizeBytes(path: string): Promise<number> {
  const info = await stat(path, { bigint: true });
  const { major, minor } = splitDeviceNumber(info.rdev);
  const sysfs = `/sys/dev/block/${major}:${minor}/size`;
  let text: string;
  try {
    text = await readFile(sysfs, 'utf8');
  } catch (err) {
    throw new PermanentError(`cannot find the size of block device ${path}: ${sysfs} is unreadable`, { cause: err });
  }
  const sectors = Number(text.trim());
  if (!Number.isSafeInteger(sectors) || sectors < 0) throw new PermanentError(`unexpected content in ${sysfs}: ${JSON.stringify(text)}`);
  return sectors * SYSFS_SECTOR_BYTES;
}

/**
 * Whether the block device at `path` (or a partition of it) is mounted: a line of
 * /proc/self/mountinfo names its MAJOR:MINOR, or a partition's whose parent it is. Restoring over
 * a mounted file system corrupts it under its users.
 */
export async function isMountedDevice(path: string): Promise<boolean> {
  const info = await stat(path, { bigint: true });
  const { major, minor } = splitDeviceNumber(info.rdev);
  const self = `${major}:${minor}`;
  let mountinfo: string;
  try {
    mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return false; // not Linux, or no procfs: nothing to tell
  }
  const mounted = new Set(
    mountinfo
      .split('\n')
      .map((line) => line.split(' ')[2])
      .filter((d): d is string => !!d),
  );
  if (mounted.has(self)) return true;
  // A partition's sysfs folder sits inside its disk's: /sys/dev/block/M:m of the partition
  // resolves to .../sda/sda1, whose parent folder holds the disk's own `dev`.
  for (const dev of mounted) {
    try {
      const parentDev = await readFile(`/sys/dev/block/${dev}/../dev`, 'utf8');
      if (parentDev.trim() === self) return true;
    } catch {
      // not a block device (tmpfs, overlay: 0:NN), or no sysfs
    }
  }
  return false;
}
