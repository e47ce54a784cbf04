/**
 * Background tasks whose first failure must surface: the archive keeps producing while packs
 * upload, and a failed upload has to stop it rather than vanish as an unhandled rejection.
 */
export class TaskGroup {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  spawn(task: Promise<void>): void {
    const p = task.then(
      () => void this.running.delete(p),
      (error: unknown) => {
        this.running.delete(p);
        this.failure ??= { error };
      },
    );
    this.running.add(p);
  }

  /** Throws the first failure of any task spawned so far. */
  check(): void {
    if (this.failure) throw this.failure.error;
  }

  async wait(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    this.check();
  }
}
