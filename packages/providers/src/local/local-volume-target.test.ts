import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { InvalidInputError, NotFoundError } from '@snapfleet/shared';
import { randomData } from '@snapfleet/shared/testing';
import { DirectWriter } from './direct-io.js';
import { LocalVolumeTarget } from './local-volume-target.js';
import { attachLoopDevice, probeLoopDevices } from './loop-device-fixture.js';

const MiB = 1024 * 1024;
const loopUnavailable = await probeLoopDevices();

/** The block device the root file system is mounted from, when it is one with a node in /dev. */
async function rootDevice(): Promise<string | undefined> {
  const line = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === '/');
  const source = line?.split(' - ')[1]?.split(' ')[1];
  if (!source?.startsWith('/dev/')) return undefined;
  return (await stat(source).catch(() => undefined))?.isBlockDevice() ? source : undefined;
}
const mountedRoot = await rootDevice();

async function withDir(test: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'snapfleet-target-'));
  try {
    await test(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The prototype of node:fs/promises FileHandle objects (the class itself is not exported). */
async function fileHandlePrototype(dir: string): Promise<{ datasync: () => Promise<void> }> {
  const h = await open(join(dir, '.probe'), 'w');
  await h.close();
  return Object.getPrototypeOf(h) as { datasync: () => Promise<void> };
}

describe('LocalVolumeTarget on a file', () => {
  it('writes a sparse file beside the destination and renames it into place on commit', () =>
    withDir(async (dir) => {
      const path = join(dir, 'restored.img');
      const size = 64 * MiB;
      const head = randomData(MiB);
      const tail = randomData(1000);
      const target = new LocalVolumeTarget(path);
      await target.open(size);
      await Promise.all([target.write(0, head), target.write(size - tail.length, tail)]);
      await target.zero(MiB, size - MiB - tail.length); // a hole: nothing to do on a fresh file
      await expect(stat(path)).rejects.toThrow(/ENOENT/); // not visible before commit
      await target.commit();

      const info = await stat(path);
      expect(info.size).toBe(size);
      expect(info.blocks * 512).toBeLessThan(8 * MiB); // the 62 MiB hole took no space
      expect(info.mode & 0o777).toBe(0o600);
      const restored = await readFile(path);
      expect(restored.subarray(0, MiB).equals(head)).toBe(true);
      expect(restored.subarray(size - tail.length).equals(tail)).toBe(true);
      expect(restored.subarray(MiB, 2 * MiB).every((byte) => byte === 0)).toBe(true);
      expect(await readdir(dir)).toEqual(['restored.img']);
    }));

  it('an abort that comes while open() is under way removes the temp file open() creates', () =>
    withDir(async (dir) => {
      // An interrupt (SIGINT) runs abort() on whatever the restore is doing, open() included.
      const target = new LocalVolumeTarget(join(dir, 'r.img'));
      const opened = target.open(64 * MiB);
      await target.abort();
      await opened.catch(() => undefined);
      expect(await readdir(dir)).toEqual([]);
    }));

  it('refuses an existing destination unless told to overwrite it, before writing anything', () =>
    withDir(async (dir) => {
      const path = join(dir, 'disk.img');
      await writeFile(path, 'previous contents');
      const target = new LocalVolumeTarget(path);
      await expect(target.checkDestination()).rejects.toMatchObject({ field: 'to', message: expect.stringMatching(/exists; pass --overwrite/) });
      await expect(target.open(4096)).rejects.toBeInstanceOf(InvalidInputError);
      await target.abort();
      expect(await readdir(dir)).toEqual(['disk.img']);
      await new LocalVolumeTarget(path, { overwrite: true }).checkDestination();
      await new LocalVolumeTarget(join(dir, 'new.img')).checkDestination();
    }));

  it('leaves an existing destination untouched when aborted, and replaces it on commit', () =>
    withDir(async (dir) => {
      const path = join(dir, 'disk.img');
      await writeFile(path, 'previous contents');
      const aborted = new LocalVolumeTarget(path, { overwrite: true });
      await aborted.open(4096);
      await aborted.write(0, randomData(4096));
      await aborted.abort();
      await aborted.abort();
      expect(await readFile(path, 'utf8')).toBe('previous contents');
      expect(await readdir(dir)).toEqual(['disk.img']);

      const data = randomData(4096);
      const committed = new LocalVolumeTarget(path, { overwrite: true });
      await committed.open(4096);
      await committed.write(0, data);
      await committed.commit();
      expect((await readFile(path)).equals(data)).toBe(true);
      await committed.abort(); // after commit: nothing to undo
      expect((await readFile(path)).equals(data)).toBe(true);
    }));

  it('rejects writes outside the volume and writes after commit', () =>
    withDir(async (dir) => {
      const target = new LocalVolumeTarget(join(dir, 'x.img'));
      await target.open(100);
      await expect(target.write(90, new Uint8Array(11))).rejects.toBeInstanceOf(InvalidInputError);
      await expect(target.zero(-1, 1)).rejects.toBeInstanceOf(InvalidInputError);
      await target.commit();
      await expect(target.write(0, new Uint8Array(1))).rejects.toThrow(/committed/);
    }));

  it('names a missing directory and refuses a directory as the destination', () =>
    withDir(async (dir) => {
      const missing = new LocalVolumeTarget(join(dir, 'no', 'such', 'dir', 'x.img'));
      await expect(missing.open(10)).rejects.toBeInstanceOf(NotFoundError);
      await expect(new LocalVolumeTarget(join(dir, 'no', 'x.img')).open(10)).rejects.toThrow(join(dir, 'no'));
      await missing.abort(); // safe after a failed open

      await mkdir(join(dir, 'sub'));
      const directory = new LocalVolumeTarget(join(dir, 'sub'));
      await expect(directory.open(10)).rejects.toBeInstanceOf(InvalidInputError);
      await directory.abort();
    }));

  it('writes the block-aligned bulk direct and the rest through the page cache, byte for byte', () =>
    withDir(async (dir) => {
      const write = vi.spyOn(DirectWriter.prototype, 'write');
      try {
        const path = join(dir, 'restored.img');
        const size = 6 * MiB + 1000; // a tail shorter than a block
        const data = randomData(size);
        const target = new LocalVolumeTarget(path, { directIo: true });
        await target.open(size);
        await target.write(0, data.subarray(0, 2 * MiB + 100)); // aligned start, unaligned end
        await target.write(2 * MiB + 100, data.subarray(2 * MiB + 100, 4 * MiB)); // unaligned start
        await Promise.all([target.write(4 * MiB, data.subarray(4 * MiB, 5 * MiB)), target.write(5 * MiB, data.subarray(5 * MiB))]);
        await target.commit();
        expect(Buffer.compare(await readFile(path), data)).toBe(0);
        // 2 MiB, 1 MiB and 1 MiB went direct (the unaligned start did not); tails were buffered.
        expect(write.mock.calls.map(([, offset, length]) => [offset, length])).toEqual(
          expect.arrayContaining([
            [0, 2 * MiB],
            [4 * MiB, MiB],
            [5 * MiB, MiB],
          ]),
        );
        expect(write.mock.calls).toHaveLength(3);
      } finally {
        write.mockRestore();
      }
    }));

  it('writes a file through the page cache by default, and its aligned bulk direct when told to', () =>
    withDir(async (dir) => {
      const write = vi.spyOn(DirectWriter.prototype, 'write');
      try {
        const data = randomData(4 * MiB);
        for (const [name, options, direct] of [
          ['default.img', {}, false],
          ['direct.img', { directIo: true }, true],
        ] as const) {
          write.mockClear();
          const path = join(dir, name);
          const target = new LocalVolumeTarget(path, options);
          await target.open(data.length);
          await target.write(0, data);
          await target.commit();
          expect(Buffer.compare(await readFile(path), data), name).toBe(0);
          expect(write.mock.calls.length > 0, name).toBe(direct);
        }
      } finally {
        write.mockRestore();
      }
    }));

  it('writes everything through the page cache where direct writes are refused', () =>
    withDir(async (dir) => {
      const open = vi.spyOn(DirectWriter, 'open').mockResolvedValue(undefined);
      try {
        const path = join(dir, 'restored.img');
        const data = randomData(3 * MiB);
        const target = new LocalVolumeTarget(path, { directIo: true });
        await target.open(data.length);
        await target.write(0, data);
        await target.commit();
        expect(open).toHaveBeenCalledTimes(1);
        expect(Buffer.compare(await readFile(path), data)).toBe(0);
      } finally {
        open.mockRestore();
      }
    }));

  it('flushes buffered writes to disk as it goes, not only at commit', () =>
    withDir(async (dir) => {
      const datasync = vi.spyOn(await fileHandlePrototype(dir), 'datasync');
      try {
        const path = join(dir, 'restored.img');
        const data = randomData(8 * MiB);
        const target = new LocalVolumeTarget(path, { flushEveryBytes: 2 * MiB, directIo: false });
        await target.open(data.length);
        for (let at = 0; at < data.length; at += MiB) await target.write(at, data.subarray(at, at + MiB));
        // One flush at a time: a write that finds one under way does not start another.
        expect(datasync.mock.calls.length).toBeGreaterThanOrEqual(1);
        expect(datasync.mock.calls.length).toBeLessThanOrEqual(4);
        await target.commit();
        expect(Buffer.compare(await readFile(path), data)).toBe(0);
      } finally {
        datasync.mockRestore();
      }
    }));

  it('reports a failed background flush and leaves the destination untouched', () =>
    withDir(async (dir) => {
      const datasync = vi
        .spyOn(await fileHandlePrototype(dir), 'datasync')
        .mockRejectedValue(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      try {
        const path = join(dir, 'restored.img');
        await writeFile(path, 'old');
        const target = new LocalVolumeTarget(path, { flushEveryBytes: MiB, directIo: false, overwrite: true });
        await target.open(4 * MiB);
        await target.write(0, randomData(MiB));
        await expect(target.commit()).rejects.toThrow(/EIO/);
        await target.abort();
        expect(await readFile(path, 'utf8')).toBe('old');
        expect((await readdir(dir)).filter((n) => n.includes('.restore-'))).toEqual([]);
      } finally {
        datasync.mockRestore();
      }
    }));

  it('can be aborted before it was opened', async () => {
    await new LocalVolumeTarget('/nonexistent/never-opened.img').abort();
  });
});

describe.skipIf(loopUnavailable !== undefined)(`LocalVolumeTarget on a block device${loopUnavailable ? ` (skipped: ${loopUnavailable})` : ''}`, () => {
  it('writes in place, really zeroes holes, and keeps the device', async () => {
    const loop = await attachLoopDevice(new Uint8Array(2 * MiB).fill(0xff));
    try {
      const data = randomData(4096);
      const target = new LocalVolumeTarget(loop.device);
      await target.open(MiB + 4096);
      await target.write(0, data);
      await target.zero(4096, MiB); // the device held 0xff there: zero() must write
      await target.commit();

      const device = await readFile(loop.device);
      expect(device.subarray(0, 4096).equals(data)).toBe(true);
      expect(device.subarray(4096, MiB + 4096).every((byte) => byte === 0)).toBe(true);
      expect(device.subarray(MiB + 4096).every((byte) => byte === 0xff)).toBe(true); // past the volume: untouched
      expect((await stat(loop.device)).isBlockDevice()).toBe(true);
    } finally {
      await loop.detach();
    }
  });

  it('rejects a device smaller than the volume', async () => {
    const loop = await attachLoopDevice(new Uint8Array(MiB));
    try {
      const target = new LocalVolumeTarget(loop.device);
      const error = await target.open(MiB + 512).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).toBe('target');
      expect(String(error)).toContain(loop.device);
      await target.abort();
    } finally {
      await loop.detach();
    }
  });
});

describe.skipIf(mountedRoot === undefined)(
  `LocalVolumeTarget on a mounted device${mountedRoot ? '' : ' (skipped: the root file system is not mounted from a block device here)'}`,
  () => {
    it('refuses it before writing anything, naming it; --overwrite lets it through', async () => {
      const target = new LocalVolumeTarget(mountedRoot!);
      await expect(target.checkDestination()).rejects.toMatchObject({
        field: 'to',
        message: expect.stringContaining(`${mountedRoot} is a mounted block device`),
      });
      await expect(target.open(4096)).rejects.toBeInstanceOf(InvalidInputError);
      await target.abort();
      await new LocalVolumeTarget(mountedRoot!, { overwrite: true }).checkDestination();
    });
  },
);
