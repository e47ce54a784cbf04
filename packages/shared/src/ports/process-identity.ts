/**
 * ProcessIdentity: which process holds a lease, and whether a holder on this machine is gone.
 * A prune killed without cleanup leaves its lease until it expires (15 minutes); a holder known
 * to be dead lets the next prune on the same machine take over at once, as restic's stale lock
 * check does. The engine cannot see processes itself, so the composition root passes this in.
 */
export interface HolderId {
  pid: number;
  /**
   * Where `pid` means this process: the machine's boot and the PID namespace (containers on one
   * machine have their own). Two machines, boots or containers never share it, unlike hostnames.
   */
  pidSpace: string;
}

export interface ProcessIdentity {
  /** This process. */
  readonly self: HolderId;
  /**
   * True only when the holder certainly no longer runs: it ran in this pid space (this machine,
   * this boot, this PID namespace) and its process is gone. Anything unsure is false, so a live holder is never overridden.
   */
  isGone(holder: HolderId): boolean;
}
