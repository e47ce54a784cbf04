/**
 * What every command gets from the composition root (main.ts): the environment map, the clock,
 * and the output streams. Commands never touch process.* themselves, so tests can run them.
 */
import type { Clock, CorruptDataError } from '@snapfleet/shared';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Output {
  write(text: string): void;
}

export interface CliContext {
  env: Env;
  clock: Clock;
  stdout: Output;
  stderr: Output & { isTTY?: boolean };
  hostname: string;
  /**
   * Registers cleanup to run if the process is interrupted (SIGINT, SIGTERM) before `release`
   * is called: a restore removes its temporary file, for example.
   */
  onInterrupt(cleanup: () => Promise<void>): { release(): void };
  /**
   * Registers a handler for a reload request (SIGHUP) until `release` is called. Without one,
   * SIGHUP keeps its default meaning (the process ends with its terminal).
   */
  onReload(handler: () => Promise<void>): { release(): void };
  /**
   * Runs `handler` synchronously as the process exits (buffered log lines are written then).
   * Absent (tests running commands in-process): logs are written as they come.
   */
  onExit?(handler: () => void): void;
}

/** Options every repository command accepts. */
export interface RepoOptions {
  repo?: string;
  passwordFile?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Warns on stderr about a snapshot object that could not be read and was left out. */
export function damagedWarning(ctx: CliContext): (id: string, err: CorruptDataError) => void {
  return (id, err) => ctx.stderr.write(`snapfleet: warning: snapshot ${id} is damaged and was skipped: ${err.message}\n`);
}

/** Shows a store's warning (the host's index cache: a damaged file, an unusable folder) on stderr. */
export function storeWarning(ctx: CliContext): (message: string) => void {
  return (message) => ctx.stderr.write(`snapfleet: warning: ${message}\n`);
}
