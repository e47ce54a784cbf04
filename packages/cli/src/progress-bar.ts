/**
 * A progress bar on stderr when it is a terminal; nothing in pipes, with --json or --quiet, so
 * scripts and logs get clean output.
 */
import { SingleBar, Presets } from 'cli-progress';
import type { Progress, ProgressListener } from '@snapfleet/shared';
import type { CliContext, RepoOptions } from './context.js';

export interface ProgressHandle {
  listener: ProgressListener | undefined;
  stop(): void;
}

export function progressBar(label: string, opts: RepoOptions, ctx: CliContext): ProgressHandle {
  if (!ctx.stderr.isTTY || opts.json || opts.quiet) return { listener: undefined, stop: () => {} };
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {done}/{all} MiB | {rate} MB/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  const started = performance.now();
  let begun = false;
  return {
    listener: (p: Progress) => {
      const payload = {
        done: mib(p.bytesDone),
        all: mib(p.bytesTotal),
        rate: (p.bytesDone / 1e6 / Math.max(0.001, (performance.now() - started) / 1000)).toFixed(0),
      };
      if (!begun) {
        bar.start(p.bytesTotal, p.bytesDone, payload);
        begun = true;
      } else bar.update(p.bytesDone, payload);
    },
    stop: () => begun && bar.stop(),
  };
}
