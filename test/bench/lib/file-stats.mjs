// File-level measurements the harness makes itself: content hashes, changed-block counts,
// repository sizes (apparent bytes) and page-cache warming.
import { createHash } from 'node:crypto';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';

const READ_BYTES = 4 << 20; // 4 MiB reads: large enough to be cheap, small enough to stay in L2/L3-ish
export const BLOCK_BYTES = 4096; // the unit mkimage mutates and the unit "changed bytes" is counted in

async function forEachChunk(path, fn) {
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(READ_BYTES);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_BYTES, null);
      if (bytesRead === 0) break;
      fn(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}

export async function sha256File(path) {
  const h = createHash('sha256');
  await forEachChunk(path, (chunk) => h.update(chunk));
  return h.digest('hex');
}

/** Reads the whole file once so the measured step starts with it in the page cache (`cat > /dev/null`). */
export async function warmFile(path) {
  let n = 0;
  await forEachChunk(path, (chunk) => {
    n += chunk.length;
  });
  return n;
}

/** Bytes in 4 KiB blocks that differ between two equally long files (count of blocks * 4096). */
export async function changedBlockBytes(pathA, pathB) {
  const [a, b] = await Promise.all([open(pathA, 'r'), open(pathB, 'r')]);
  const bufA = Buffer.allocUnsafe(READ_BYTES);
  const bufB = Buffer.allocUnsafe(READ_BYTES);
  let changed = 0;
  try {
    for (let pos = 0; ; pos += READ_BYTES) {
      const [ra, rb] = await Promise.all([a.read(bufA, 0, READ_BYTES, pos), b.read(bufB, 0, READ_BYTES, pos)]);
      if (ra.bytesRead !== rb.bytesRead) throw new Error(`${pathA} and ${pathB} differ in length`);
      if (ra.bytesRead === 0) break;
      for (let off = 0; off < ra.bytesRead; off += BLOCK_BYTES) {
        const end = Math.min(off + BLOCK_BYTES, ra.bytesRead);
        if (!bufA.subarray(off, end).equals(bufB.subarray(off, end))) changed += BLOCK_BYTES;
      }
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  return changed;
}

/** Sum of the sizes of all regular files below dir (apparent bytes, like `du -sb --apparent-size`). */
export async function treeBytes(dir) {
  let total = 0;
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) total += await treeBytes(p);
    else if (ent.isFile()) total += (await lstat(p)).size;
  }
  return total;
}

/** All regular files below dir (used to find what a tool restored). */
export async function listFiles(dir) {
  const out = [];
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...(await listFiles(p)));
    else if (ent.isFile()) out.push(p);
  }
  return out;
}
