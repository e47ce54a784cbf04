/** fsync helpers: what it takes for a created or renamed file to survive a power cut. */
import { open } from 'node:fs/promises';
import { blobDataLength, type BlobData } from '@snapfleet/shared';

/** Creates `path` (it must not exist), writes `data` and fsyncs the file before returning. */
export async function writeDurably(path: string, data: BlobData, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    // writev hands the parts to the kernel as they are: no 16 MiB concatenation for a pack.
    const parts = data instanceof Uint8Array ? [data] : [...data];
    let written = 0;
    const total = blobDataLength(data);
    while (written < total) {
      const { bytesWritten } = await handle.writev(remaining(parts, written));
      if (bytesWritten === 0) throw new Error(`short write to ${path}`);
      written += bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
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
