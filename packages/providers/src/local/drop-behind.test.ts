import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binding } from '@snapfleet/native';
import { randomData } from '@snapfleet/shared/testing';
import { dropWritten } from './drop-behind.js';
import { LocalVolumeTarget } from './local-volume-target.js';

const MiB = 1024 * 1024;

/** Bytes of `path` in the page cache (util-linux fincore); undefined where fincore is missing. */
function cachedBytes(path: string): number | undefined {
  try {
    return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
}

const fincoreMissing = (() => {
  try {
    execFileSync('fincore', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'util-linux fincore is not installed';
  }
})();

async function withDir(test: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'drop-behind-'));
  try {
    await test(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('dropCache (native)', () => {
  it('is built, answers an errno for a bad descriptor, and refuses bad arguments', () => {
    expect(binding, 'the native addon did not load').toBeDefined();
    expect(binding!.dropCache(1_000_000, 0, 4096)).toBe(9); // EBADF
    expect(() => binding!.dropCache(3, -1, 0)).toThrow(/offset/);
    expect(() => binding!.dropCache(3, 0, 1.5)).toThrow(/length/);
  });
});

describe.skipIf(fincoreMissing !== undefined)(`drop-behind in the page cache${fincoreMissing ? ` (skipped: ${fincoreMissing})` : ''}`, () => {
  it('drops a synced range, and only that range', () =>
    withDir(async (dir) => {
      const path = join(dir, 'f');
      const handle = await open(path, 'w+');
      try {
        await handle.write(randomData(4 * MiB), 0, 4 * MiB, 0);
        await handle.datasync();
        expect(cachedBytes(path)).toBe(4 * MiB);
        expect(binding!.dropCache(handle.fd, 0, 3 * MiB)).toBe(0);
        // The page cache keeps whole folios (up to 2 MiB here): one that reaches past the range stays.
        const left = cachedBytes(path)!;
        expect(left).toBeGreaterThanOrEqual(MiB);
        expect(left).toBeLessThan(4 * MiB);
        dropWritten(handle.fd, 0, 4 * MiB);
        expect(cachedBytes(path)).toBe(0);
      } finally {
        await handle.close();
      }
    }));

  it('a restore to a file leaves none of it in the page cache, and every byte on disk', () =>
    withDir(async (dir) => {
      const path = join(dir, 'restored.img');
      const data = randomData(8 * MiB);
      const target = new LocalVolumeTarget(path, { flushEveryBytes: MiB, directIo: false });
      await target.open(data.length);
      for (let at = 0; at < data.length; at += MiB / 2) await target.write(at, data.subarray(at, at + MiB / 2));
      await target.commit();
      // Without drop-behind every page just written would still be cached.
      expect(cachedBytes(path)).toBe(0);
      const back = await open(path, 'r');
      try {
        expect(Buffer.compare((await back.readFile()) as Buffer, data)).toBe(0);
      } finally {
        await back.close();
      }
    }));
});
