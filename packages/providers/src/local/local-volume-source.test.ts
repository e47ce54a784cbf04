import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '@snapfleet/shared';
import { conformanceVolume, describeVolumeSourceConformance, sha256Hex } from '@snapfleet/shared/testing';
import { DEFAULT_LOCAL_BLOCK_SIZE, LocalVolumeSource } from './local-volume-source.js';
import { attachLoopDevice, probeLoopDevices } from './loop-device-fixture.js';

/** 1 MiB blocks: the conformance volume (5 MiB + 64.5 KiB) then spans six blocks, the last short. */
const TEST_BLOCK_SIZE = 1024 * 1024;

async function imageFile(content: Uint8Array): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'snapfleet-volume-'));
  const path = join(dir, 'volume.img');
  await writeFile(path, content);
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

describeVolumeSourceConformance('LocalVolumeSource over an image file', async (content) => {
  const { path, cleanup } = await imageFile(content);
  return { source: await LocalVolumeSource.open(path, { blockSize: TEST_BLOCK_SIZE }), cleanup };
});

const loopUnavailable = await probeLoopDevices();
if (loopUnavailable === undefined) {
  describeVolumeSourceConformance('LocalVolumeSource over a loop block device', async (content) => {
    const loop = await attachLoopDevice(content);
    return { source: await LocalVolumeSource.open(loop.device, { blockSize: TEST_BLOCK_SIZE }), cleanup: loop.detach };
  });
} else {
  describe.skip(`VolumeSource conformance: LocalVolumeSource over a loop block device (skipped: ${loopUnavailable})`, () => {
    it('runs the conformance suite', () => undefined);
  });
}

describe('LocalVolumeSource', () => {
  it.skipIf(loopUnavailable !== undefined)(
    `sizes a block device from sysfs, not fs.stat${loopUnavailable ? ` (skipped: ${loopUnavailable})` : ''}`,
    async () => {
      const content = conformanceVolume();
      const loop = await attachLoopDevice(content);
      try {
        const source = await LocalVolumeSource.open(loop.device);
        expect(source.isBlockDevice).toBe(true);
        expect(source.sizeBytes).toBe(content.length);
        expect(source.blockSize).toBe(DEFAULT_LOCAL_BLOCK_SIZE);
        const first = await source.readBlock(0);
        expect(sha256Hex(first)).toBe(sha256Hex(content.subarray(0, DEFAULT_LOCAL_BLOCK_SIZE)));
        await source.close();
      } finally {
        await loop.detach();
      }
    },
  );

  it('uses 4 MiB blocks by default, lists every block and has no change tracking', async () => {
    const { path, cleanup } = await imageFile(new Uint8Array(9 * 1024 * 1024));
    try {
      const source = await LocalVolumeSource.open(path);
      expect(source.blockSize).toBe(4 * 1024 * 1024);
      const blocks: number[] = [];
      for await (const index of source.writtenBlocks()) blocks.push(index);
      expect(blocks).toEqual([0, 1, 2]);
      expect((await source.readBlock(2)).length).toBe(1024 * 1024);
      expect(await source.changedBlocksSince('anything')).toBeUndefined();
      expect(source.sourceRef).toBeUndefined();
      await source.close();
      await expect(source.readBlock(0)).rejects.toThrow(/closed/);
    } finally {
      await cleanup();
    }
  });

  it('names the path when it is missing, a directory or not a volume', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snapfleet-volume-'));
    try {
      const missing = join(dir, 'nope.img');
      await expect(LocalVolumeSource.open(missing)).rejects.toBeInstanceOf(NotFoundError);
      await expect(LocalVolumeSource.open(missing)).rejects.toThrow(missing);
      await expect(LocalVolumeSource.open(dir)).rejects.toBeInstanceOf(InvalidInputError);
      await expect(LocalVolumeSource.open(dir)).rejects.toThrow(`${dir} is a directory`);
      await expect(LocalVolumeSource.open('/dev/null')).rejects.toThrow(/neither an image file nor a block device/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects block sizes that are not powers of two or out of bounds', async () => {
    const { path, cleanup } = await imageFile(new Uint8Array(4096));
    try {
      for (const blockSize of [0, 3000, 256, 128 * 1024 * 1024]) {
        const error = await LocalVolumeSource.open(path, { blockSize }).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).toBe('blockSize');
      }
    } finally {
      await cleanup();
    }
  });

  it('reads an empty image as a volume with no blocks', async () => {
    const { path, cleanup } = await imageFile(new Uint8Array(0));
    try {
      const source = await LocalVolumeSource.open(path);
      expect(source.sizeBytes).toBe(0);
      for await (const _ of source.writtenBlocks()) throw new Error('an empty volume has no blocks');
      await expect(source.readBlock(0)).rejects.toBeInstanceOf(InvalidInputError);
      await source.close();
    } finally {
      await cleanup();
    }
  });
});
