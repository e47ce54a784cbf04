/**
 * A restore drill's scratch file: a sparse file the size of the volume in a directory, restored
 * into (LocalVolumeTarget), read back (LocalVolumeSource) and removed. Its name carries no volume
 * id (ids may hold characters a file name must not), only the drill's random part, so a sweep
 * finds the files a killed worker left by name and age.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScratchTarget, ScratchTargets } from '@snapfleet/shared';
import { LocalVolumeSource } from './local-volume-source.js';
import { LocalVolumeTarget } from './local-volume-target.js';

/** 8 random bytes: drills running at once never share a file. */
const NAME_RANDOM_BYTES = 8;
/** The scratch file, and LocalVolumeTarget's temporary file beside it (`.<name>.restore-…`). */
const SCRATCH_NAME = /^\.?snapfleet-drill-[0-9a-f]+\.img(\.restore-[0-9a-f]+)?$/;

export function localScratchFile(dir: string, sizeBytes: number): ScratchTarget {
  const path = join(dir, `snapfleet-drill-${randomBytes(NAME_RANDOM_BYTES).toString('hex')}.img`);
  return {
    target: new LocalVolumeTarget(path),
    readBack: () => LocalVolumeSource.open(path, { sizeBytes }),
    dispose: () => rm(path, { force: true }),
  };
}

/** Scratch files in `dir` (the local provider's: the OS temp directory). */
export function localScratchFiles(dir: string = tmpdir()): ScratchTargets {
  return {
    create: async (request) => localScratchFile(dir, request.sizeBytes),
    async sweep(before) {
      let deleted = 0;
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (!SCRATCH_NAME.test(name)) continue;
        const path = join(dir, name);
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile() || info.mtime >= before) continue;
        await rm(path, { force: true });
        deleted++;
      }
      return deleted;
    },
  };
}
