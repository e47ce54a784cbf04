/**
 * Test fixture: attaches an image file as a Linux loop device (`losetup`), so block-device code
 * paths run against a real device. Needs root and the loop driver; `probeLoopDevices` says why
 * not when they are missing, so tests can skip with that reason.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoopDevice {
  device: string;
  /** Detaches the device and removes its image. */
  detach(): Promise<void>;
}

/** Writes `content` to a temp image and attaches it; the size must be a multiple of 512. */
export async function attachLoopDevice(content: Uint8Array): Promise<LoopDevice> {
  const dir = await mkdtemp(join(tmpdir(), 'snapfleet-loop-'));
  const image = join(dir, 'disk.img');
  await writeFile(image, content);
  let device: string;
  try {
    device = (await run('losetup', ['-f', '--show', image])).stdout.trim();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    device,
    detach: async () => {
      await run('losetup', ['-d', device]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Undefined when loop devices work here, otherwise the reason they do not. */
export async function probeLoopDevices(): Promise<string | undefined> {
  try {
    const loop = await attachLoopDevice(new Uint8Array(4096));
    await loop.detach();
    return undefined;
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return `losetup is unavailable here (${detail})`;
  }
}
