export declare const LAUNCHER_MALLOC_ENV: Readonly<{
  MALLOC_ARENA_MAX: '2';
  MALLOC_MMAP_THRESHOLD_: '1048576';
  GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1';
}>;

export declare const LAUNCHER_NODE_FLAGS: readonly string[];
