/**
 * A restore drill onto a device (`drill.target: { device }`) under the real engine: restored onto
 * a loop device (where losetup works here) or a regular file standing for one, read back and
 * checked; and the refusals, each naming the config field: a missing path, a fleet volume, a
 * device too small, a file backing a loop device, a mounted device.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveVolume, createInlineCodecPool, drillSnapshot, initRepository, InvalidInputError, type Repository, type SnapshotEntry } from '@snapfleet/shared';
import { MemoryBlobStore, seededBytes, sha256Hex } from '@snapfleet/shared/testing';
import { openDrillDevice } from './local-drill-device.js';
import { LocalVolumeSource } from './local-volume-source.js';
import { attachLoopDevice, probeLoopDevices } from './loop-device-fixture.js';

const MiB = 1024 * 1024;
const SIZE = 3 * MiB + 4096; // not a whole number of MiB: the read-back stops where the volume does
const FIELD = 'policies.nightly.drill.target.device';
const clock = { now: () => new Date('2026-03-01T12:00:00Z') };
const loopUnavailable = await probeLoopDevices();

let dir: string;
let volumePath: string;
let data: Uint8Array;
let repo: Repository;
let entry: SnapshotEntry;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapfleet-drill-device-'));
  volumePath = join(dir, 'volume.img');
  data = seededBytes(SIZE, 7);
  data.fill(0, MiB, 2 * MiB); // a hole: the device must read zeros there
  await writeFile(volumePath, data);
  repo = await initRepository(new MemoryBlobStore(), { encrypted: false });
  const source = await LocalVolumeSource.open(volumePath);
  try {
    await archiveVolume(repo, createInlineCodecPool(repo.keys), { volumeId: 'vol-1', source, time: clock.now(), clock });
  } finally {
    await source.close();
  }
  entry = (await repo.listSnapshots())[0]!;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const request = (volumes = [{ id: 'vol-1', path: join(dir, 'volume.img') }]) => ({ sizeBytes: SIZE, volumes, field: FIELD });

async function drill(device: string) {
  const scratch = await openDrillDevice(device, request());
  try {
    return await drillSnapshot(repo, createInlineCodecPool(repo.keys), entry, { target: scratch.target, readBack: () => scratch.readBack(), clock });
  } finally {
    await scratch.dispose();
  }
}

describe('a drill onto a device', () => {
  it('restores onto a regular file standing for a device, checks every chunk, and keeps it', async () => {
    const device = join(dir, 'drill-disk.img');
    await writeFile(device, Buffer.alloc(4 * MiB, 0xee)); // larger than the volume, not zeros
    const report = await drill(device);
    expect(report.ok).toBe(true);
    expect(report.check.chunks).toBe(SIZE / 4096);
    expect(sha256Hex(await readFile(device))).toBe(sha256Hex(data)); // replaced whole, kept
  });

  it.skipIf(loopUnavailable !== undefined)(
    `restores onto a loop device and reads back only the volume's bytes${loopUnavailable ? ` (skipped: ${loopUnavailable})` : ''}`,
    async () => {
      const loop = await attachLoopDevice(new Uint8Array(4 * MiB).fill(0xee));
      try {
        const report = await drill(loop.device);
        expect(report).toMatchObject({ ok: true, check: { mismatched: 0, chunks: SIZE / 4096 } });
        const back = await readFile(loop.device);
        expect(sha256Hex(back.subarray(0, SIZE))).toBe(sha256Hex(data));
        expect(back[SIZE]).toBe(0xee); // past the volume: untouched
      } finally {
        await loop.detach();
      }
    },
  );

  it('finds a block that differs on the device after the restore', async () => {
    const device = join(dir, 'drill-disk.img');
    await writeFile(device, Buffer.alloc(4 * MiB));
    const scratch = await openDrillDevice(device, request());
    const pool = createInlineCodecPool(repo.keys);
    const report = await drillSnapshot(repo, pool, entry, {
      target: scratch.target,
      clock,
      readBack: async () => {
        // Something wrote over the device between the restore and the read-back.
        const bytes = await readFile(device);
        bytes[2 * MiB + 5] = bytes[2 * MiB + 5]! ^ 0xff;
        await writeFile(device, bytes);
        return scratch.readBack();
      },
    });
    expect(report).toMatchObject({ ok: false, check: { mismatched: 1, firstMismatchAt: 2 * MiB } });
  });

  it('refuses a missing path, a fleet volume, a device too small, and a file backing a loop device, naming the field', async () => {
    const refusal = (message: RegExp) => expect.objectContaining({ field: FIELD, message: expect.stringMatching(message) });
    await expect(openDrillDevice(join(dir, 'nope'), request())).rejects.toEqual(refusal(/^policies\.nightly\.drill\.target\.device: .*nope does not exist/));
    await expect(openDrillDevice(volumePath, request())).rejects.toEqual(refusal(/is volume vol-1 of the fleet/));
    const small = join(dir, 'small.img');
    await writeFile(small, Buffer.alloc(MiB));
    await expect(openDrillDevice(small, request())).rejects.toEqual(refusal(new RegExp(`holds ${MiB} bytes, fewer than the ${SIZE}`)));
    await expect(openDrillDevice(dir, request())).rejects.toBeInstanceOf(InvalidInputError);
    expect((await stat(small)).size).toBe(MiB); // nothing written
    if (loopUnavailable === undefined) {
      const loop = await attachLoopDevice(new Uint8Array(4 * MiB));
      try {
        const backing = (await readFile(`/sys/block/${loop.device.replace('/dev/', '')}/loop/backing_file`, 'utf8')).trim();
        await expect(openDrillDevice(backing, request())).rejects.toEqual(refusal(/backs loop device \/dev\/loop/));
        // The device itself, given by the fleet as a volume under another name: refused too.
        await expect(openDrillDevice(loop.device, request([{ id: 'vol-2', path: loop.device }]))).rejects.toEqual(refusal(/is volume vol-2/));
      } finally {
        await loop.detach();
      }
    }
  });
});

const mountedRoot = await (async () => {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const source = mounts
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[1] === '/')?.[0];
  return source && (await stat(source).catch(() => undefined))?.isBlockDevice() ? source : undefined;
})();

describe.skipIf(mountedRoot === undefined)(
  `a drill onto a mounted device${mountedRoot ? '' : ' (skipped: the root file system is not mounted from a block device here)'}`,
  () => {
    it('is refused before anything is written, naming the field', async () => {
      await expect(openDrillDevice(mountedRoot!, { sizeBytes: 4096, volumes: [], field: FIELD })).rejects.toMatchObject({
        field: FIELD,
        message: expect.stringMatching(/is mounted|is in use/),
      });
    });
  },
);
