/**
 * Clock: the engine never reads the system time itself, nor starts timers (no setInterval or
 * setTimeout in packages/shared), so tests and replays pass their own.
 */
export interface Clock {
  now(): Date;
  /**
   * Calls `fn` every `ms` milliseconds until the returned function is called, without keeping the
   * process alive for it. Leases are renewed through it; a clock without it (a fixed clock in a
   * test) renews nothing, so an operation that outlives its lease (10 minutes) refuses to commit.
   * Every composition root's clock has it.
   */
  every?(ms: number, fn: () => void): () => void;
}
