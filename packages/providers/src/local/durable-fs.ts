/** fsync helpers: what it takes for a created or renamed file to survive a power cut. */
import { open } from 'node:fs/promises';
import { blobDataLength, type BlobData } from '@snapfleet/shared';
import { DIRECT_UNIT, DirectWriter } from './direct-io.js';

/** Objects from this size on (packs) are written direct where possible; small ones buffered. */
const DIRECT_MIN_BYTES = 1024 * 1024;

/**
 * Creates `path` (it must not exist), writes `data` and fsyncs the file before returning. With
 * `direct`, a large object's block-aligned head bypasses the page cache (direct-io.ts).
 */
export async function writeDurably(path: string, data: BlobData, mode: number, direct = false): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    // writev hands the parts to the kernel as they are: no 16 MiB concatenation for a pack.
    const parts = data instanceof Uint8Array ? [data] : [...data];
    const total = blobDataLength(data);
    let written = direct && total >= DIRECT_MIN_BYTES ? await writeHeadDirect(path, parts, total) : 0;
    while (written < total) {
      const { bytesWritten } = await handle.writev(remaining(parts, written), written);
      if (bytesWritten === 0) throw new Error(`short write to ${path}`);
      written += bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes the DIRECT_UNIT-aligned head of `parts` direct; returns its length (0: not possible). */
async function writeHeadDirect(path: string, parts: Uint8Array[], total: number): Promise<number> {
  const writer = await DirectWriter.open(path, 'write-zeros');
  if (writer === undefined) return 0;
  const head = total - (total % DIRECT_UNIT);
  try {
    await writer.write(parts, 0, head);
  } finally {
    await writer.close();
  }
  return head;
}

/** Makes a rename or create inside `dir` durable (POSIX needs the directory itself fsynced). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The parts left after `skip` bytes: writev may write fewer bytes than asked. */
function remaining(parts: Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (skip >= p.byteLength) {
      skip -= p.byteLength;
      continue;
    }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}
