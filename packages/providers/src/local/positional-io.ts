/** Positional reads and writes that loop until done: a single pread/pwrite may transfer less. */
import type { FileHandle } from 'node:fs/promises';
import { PermanentError } from '@snapfleet/shared';

export async function readFully(handle: FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) {
      throw new PermanentError(`unexpected end of file at byte ${position + done}: the file shrank while being read`);
    }
    done += bytesRead;
  }
}

export async function writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}
