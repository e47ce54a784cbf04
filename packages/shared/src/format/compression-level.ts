/** The default zstd level, in a module of its own: config parsing must not load zstd-napi. */

/**
 * Level 1: on the compressible part of disk-like data (256 KiB frames) it measured 559 MiB/s a
 * core at a 0.451 ratio, against level 3's 347 MiB/s at 0.427 (level 2: 429 at 0.437). Frames
 * of incompressible data cost nothing at any level (9-11 GiB/s). 5% more bytes for compressible
 * data buys 1.6x the compression speed, and compression is the archive's largest CPU cost;
 * repositories that would rather pay CPU than storage set their level (3-19).
 */
export const DEFAULT_ZSTD_LEVEL = 1;
