/**
 * Changes a fraction of an image's 4 KiB blocks in place, fast: for tests that need only "the
 * volume changed, so the next archive stores new data", called many times per test.
 *
 * `mkimage.py mutate` is the realistic change (its content classes and run lengths model real
 * disks), and the tests that measure deduplication or locality use it. But it rebuilds its text
 * corpora on every call, about 0.9 s of CPU whatever the image's size: the kill tests, which
 * change three volumes every round for tens of rounds, spent more CPU in it than in snapfleet.
 * Here the new content is half seeded random bytes (incompressible) and half seeded text
 * (compressible), in runs of 1-32 blocks at seeded random offsets, so a seed replays a run.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { seededRandom } from './gc.js';

const BLOCK = 4096;
const MAX_RUN_BLOCKS = 32;
const WORDS = ['volume', 'snapshot', 'block', 'restore', 'archive', 'pack', 'index', 'frame', 'lease', 'prune', 'worker', 'queue'];

/** Incompressible bytes from a seeded AES-CTR keystream. */
function randomBytes(seed: number, run: number, length: number): Buffer {
  const key = createHash('sha256').update(`change-blocks:${seed}:${run}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** Log-like text: compresses several times over, and differs from block to block. */
function textBytes(rand: () => number, seed: number, firstBlock: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let at = 0;
  let line = 0;
  while (at < length) {
    const word = WORDS[Math.floor(rand() * WORDS.length)]!;
    const text = `${seed}.${firstBlock + Math.floor(at / BLOCK)}.${line++} ${word} ok ${Math.floor(rand() * 1000)}\n`;
    at += out.write(text, at);
  }
  return out;
}

/** Rewrites about `fraction` of the image's blocks (at least one), size unchanged. */
export async function changeBlocks(path: string, fraction: number, seed: number): Promise<void> {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`changeBlocks: fraction must be in (0, 1], got ${fraction}`);
  const file = await open(path, 'r+');
  try {
    const blocks = Math.floor((await file.stat()).size / BLOCK);
    if (blocks === 0) throw new Error(`changeBlocks: ${path} holds no whole 4 KiB block`);
    const rand = seededRandom(seed);
    const target = Math.max(1, Math.round(blocks * fraction));
    let changed = 0;
    for (let run = 0; changed < target; run++) {
      const length = Math.min(target - changed, 1 + Math.floor(rand() * MAX_RUN_BLOCKS), blocks);
      const first = Math.floor(rand() * (blocks - length + 1));
      const bytes = rand() < 0.5 ? randomBytes(seed, run, length * BLOCK) : textBytes(rand, seed, first, length * BLOCK);
      await file.write(bytes, 0, bytes.length, first * BLOCK);
      changed += length;
    }
  } finally {
    await file.close();
  }
}
