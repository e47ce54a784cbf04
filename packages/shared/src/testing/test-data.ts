/** Deterministic test bytes shared by the conformance suites. */
import { createHash, randomBytes } from 'node:crypto';

/** Pseudo-random bytes from a seed (xorshift32): the same seed gives the same volume everywhere. */
export function seededBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let state = seed >>> 0 || 1;
  let offset = 0;
  for (; offset + 4 <= length; offset += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    view.setUint32(offset, state >>> 0, true);
  }
  for (; offset < length; offset++) out[offset] = offset & 0xff;
  return out;
}

/** Random bytes for objects whose content only needs to differ between runs. */
export function randomData(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}
