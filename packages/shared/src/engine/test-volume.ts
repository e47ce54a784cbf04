/**
 * Builds small test volumes with what real disks hold: zero runs, compressible text, random
 * (already compressed) data, and repeats of earlier ranges at 4 KiB-aligned offsets.
 */
import { createHash } from 'node:crypto';

export function makeVolume(sizeBytes: number, seed: number): Buffer {
  const out = Buffer.alloc(sizeBytes);
  let state = createHash('sha256').update(`vol-${seed}`).digest();
  const next = () => {
    state = createHash('sha256').update(state).digest();
    return state.readUInt32LE(0);
  };
  let p = 0;
  while (p < sizeBytes) {
    const len = Math.min(sizeBytes - p, 4096 * (1 + (next() % 48)));
    const kind = next() % 4;
    if (kind === 1) {
      const words = ['alpha ', 'block ', 'volume ', 'snapshot ', 'kernel: ', 'eth0 up\n', 'GET /index.html 200\n'];
      let q = p;
      while (q < p + len) q += out.write(words[next() % words.length]!, q, p + len - q);
    } else if (kind === 2) {
      for (let q = p; q < p + len; q += 32) {
        state = createHash('sha256').update(state).digest();
        state.copy(out, q, 0, Math.min(32, p + len - q));
      }
    } else if (kind === 3 && p >= 65536) {
      const from = 4096 * (next() % Math.floor(p / 4096 - 8));
      out.copy(out, p, from, from + Math.min(len, p - from));
    }
    p += len;
  }
  return out;
}

/** Overwrites `count` 4 KiB blocks at seeded places with fresh random data. */
export function mutate(volume: Buffer, count: number, seed: number): number[] {
  let state = createHash('sha256').update(`mut-${seed}`).digest();
  const blocks = Math.floor(volume.length / 4096);
  const changed = new Set<number>();
  for (let i = 0; i < count; i++) {
    state = createHash('sha256').update(state).digest();
    const b = state.readUInt32LE(0) % blocks;
    changed.add(b);
    for (let q = 0; q < 4096; q += 32)
      createHash('sha256')
        .update(state)
        .update(String(q))
        .digest()
        .copy(volume, b * 4096 + q);
  }
  return [...changed].sort((a, b) => a - b);
}
