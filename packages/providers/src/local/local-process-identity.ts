/**
 * The ProcessIdentity of this process on Linux: its pid, in a pid space named by the kernel's
 * boot id and the PID namespace. A holder in the same space whose pid no longer exists is gone.
 * Where either cannot be read (not Linux), there is no identity and leases only expire.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import type { HolderId, ProcessIdentity } from '@snapfleet/shared';

const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
const PID_NAMESPACE_PATH = '/proc/self/ns/pid';

export function localProcessIdentity(): ProcessIdentity | undefined {
  let pidSpace: string;
  try {
    // The boot id alone is shared by every container of the machine; the namespace is not.
    pidSpace = `${readFileSync(BOOT_ID_PATH, 'utf8').trim()}/${readlinkSync(PID_NAMESPACE_PATH)}`;
  } catch {
    return undefined;
  }
  const self: HolderId = { pid: process.pid, pidSpace };
  return {
    self,
    isGone(holder: HolderId): boolean {
      if (holder.pidSpace !== pidSpace || holder.pid === process.pid) return false;
      try {
        process.kill(holder.pid, 0); // signal 0: only asks whether the process exists
        return false;
      } catch (err) {
        // EPERM: it exists but belongs to another user. Only "no such process" is gone.
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    },
  };
}
