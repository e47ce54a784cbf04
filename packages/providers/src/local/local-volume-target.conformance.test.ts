import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { describeVolumeTargetConformance, seededBytes } from '@snapfleet/shared/testing';
import { LocalVolumeTarget } from './local-volume-target.js';
import { attachLoopDevice, probeLoopDevices } from './loop-device-fixture.js';

/** The smallest loop device the fixture makes: losetup wants whole 512-byte sectors, and some. */
const MIN_DEVICE_BYTES = 4096;

describeVolumeTargetConformance('LocalVolumeTarget to a new file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'snapfleet-target-conformance-'));
  const path = join(dir, 'restored.img');
  return {
    target: new LocalVolumeTarget(path),
    readBack: async (size) => {
      const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      return bytes && new Uint8Array(bytes.subarray(0, size));
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

// A plain file cannot stand for a device: LocalVolumeTarget takes the device path (in place, holes
// really zeroed, size from sysfs) only for what stat reports as a block device.
const loopUnavailable = await probeLoopDevices();
if (loopUnavailable === undefined) {
  describeVolumeTargetConformance(
    'LocalVolumeTarget to a loop block device',
    async (sizeBytes) => {
      // Not zeros: holes the target fails to zero would read back as this.
      const loop = await attachLoopDevice(seededBytes(Math.max(sizeBytes, MIN_DEVICE_BYTES), 0xdead));
      return {
        target: new LocalVolumeTarget(loop.device),
        readBack: async (size) => {
          const handle = await open(loop.device, 'r');
          try {
            const out = new Uint8Array(size);
            for (let at = 0; at < size;) {
              const { bytesRead } = await handle.read(out, at, size - at, at);
              if (bytesRead === 0) throw new Error(`${loop.device} ended at byte ${at}`);
              at += bytesRead;
            }
            return out;
          } finally {
            await handle.close();
          }
        },
        cleanup: loop.detach,
      };
    },
    { writesInPlace: true, fixedCapacity: true },
  );
} else {
  describe.skip(`VolumeTarget conformance: LocalVolumeTarget to a loop block device (skipped: ${loopUnavailable})`, () => {
    it('runs the conformance suite', () => undefined);
  });
}
