#!/usr/bin/env node
/**
 * snapfleet's composition root for one-process use: the only place that reads process.env, the
 * system clock and the real stdio, and hands them to the commands.
 */
import { hostname } from 'node:os';
import { runCli } from './program.js';

const cleanups = new Set<() => Promise<void>>();
let interrupted = false;
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`snapfleet: interrupted (${signal}), cleaning up\n`);
    void Promise.allSettled([...cleanups].map((c) => c())).then(() => process.exit(code));
  });
}

// SIGHUP is listened to only while a long-running command has a reload handler registered.
const reloads = new Set<() => Promise<void>>();
const onHangup = () => {
  for (const reload of reloads) void reload().catch((err: Error) => process.stderr.write(`snapfleet: reload failed: ${err.message}\n`));
};

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  clock: {
    now: () => new Date(),
    every(ms, fn) {
      const timer = setInterval(fn, ms);
      timer.unref(); // a lease renewal must not keep a finished command alive
      return () => clearInterval(timer);
    },
  },
  stdout: { write: (s) => void process.stdout.write(s) },
  stderr: { write: (s) => void process.stderr.write(s), isTTY: process.stderr.isTTY },
  hostname: hostname(),
  onInterrupt(cleanup) {
    cleanups.add(cleanup);
    return { release: () => void cleanups.delete(cleanup) };
  },
  onExit(handler) {
    process.on('exit', handler);
  },
  onReload(handler) {
    reloads.add(handler);
    if (reloads.size === 1) process.on('SIGHUP', onHangup);
    return {
      release() {
        reloads.delete(handler);
        if (reloads.size === 0) process.off('SIGHUP', onHangup);
      },
    };
  },
});
process.exitCode = code;
