/**
 * What the `snapfleet` launcher (packages/cli/bin/snapfleet) gives the CLI when the caller's
 * environment does not: glibc malloc's arena count and mmap threshold, its huge-page tunable, and
 * V8's young-generation size. Tests and benchmarks that start the CLI's bundle, or a script of
 * their own, with `node` directly give the same, so what they run and measure is what users run.
 * test/e2e/launcher.test.ts checks these against the launcher itself.
 */
export const LAUNCHER_MALLOC_ENV = Object.freeze({
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '1048576',
  GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
});

/** The launcher's default `SNAPFLEET_NODE_OPTIONS`, as node arguments. */
export const LAUNCHER_NODE_FLAGS = Object.freeze(['--max-semi-space-size=2']);
