import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomData } from '@snapfleet/shared/testing';
import { DIRECT_UNIT, DirectWriter } from './direct-io.js';

const MiB = 1024 * 1024;

describe('DirectWriter', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapfleet-direct-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const newFile = async (name: string): Promise<{ path: string; writer: DirectWriter }> => {
    const path = join(dir, name);
    await writeFile(path, '');
    const writer = await DirectWriter.open(path, 'write-zeros');
    // The machine this runs on (ext4) takes O_DIRECT: a missing writer here is a failure.
    if (writer === undefined) throw new Error(`O_DIRECT is not available in ${dir}`);
    return { path, writer };
  };

  it('writes the concatenated parts at aligned offsets, across staging pieces and part boundaries', async () => {
    const { path, writer } = await newFile('parts.bin');
    const parts = [randomData(5), randomData(6 * MiB - 5), randomData(3 * MiB + 100)];
    const whole = Buffer.concat(parts);
    const length = 9 * MiB; // ends inside the last part: its last 100 bytes are not written
    await writer.write(parts, 2 * DIRECT_UNIT, length);
    await writer.close();
    const got = await readFile(path);
    expect(got.length).toBe(2 * DIRECT_UNIT + length);
    expect(got.subarray(0, 2 * DIRECT_UNIT).every((b) => b === 0)).toBe(true);
    expect(Buffer.compare(got.subarray(2 * DIRECT_UNIT), whole.subarray(0, length))).toBe(0);
  });

  it('keeps concurrent writes to one device apart though they share staging memory', async () => {
    const files = await Promise.all([0, 1, 2].map((i) => newFile(`concurrent-${i}.bin`)));
    const data = files.map(() => randomData(10 * MiB));
    await Promise.all(files.map(({ writer }, i) => writer.write([data[i]!], 0, data[i]!.length)));
    await Promise.all(files.map(({ writer }) => writer.close()));
    for (const [i, { path }] of files.entries()) expect(Buffer.compare(await readFile(path), data[i]!)).toBe(0);
  });

  it('returns from write once the data is staged, and reports a failed device write at close', async () => {
    const { path, writer } = await newFile('failing.bin');
    const data = randomData(2 * MiB);
    await writer.write([data], 0, data.length);
    data.fill(0); // the caller's memory is free once write returns: this must not reach the file
    await writer.drain();
    expect(Buffer.compare((await readFile(path)).subarray(0, 8), Buffer.alloc(8))).not.toBe(0);

    const handleProto = Object.getPrototypeOf((writer as unknown as { handle: object }).handle) as { write: (...args: unknown[]) => Promise<unknown> };
    const write = vi.spyOn(handleProto, 'write').mockRejectedValue(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    try {
      await writer.write([randomData(MiB)], 4 * MiB, MiB); // staged: the failure comes later
      await expect(writer.close()).rejects.toThrow(/EIO/);
    } finally {
      write.mockRestore();
    }
  });

  it('rejects an offset or length that is not a whole number of blocks', async () => {
    const { writer } = await newFile('unaligned.bin');
    await expect(writer.write([randomData(DIRECT_UNIT)], 512, DIRECT_UNIT)).rejects.toThrow(/not aligned to 4096 bytes/);
    await expect(writer.write([randomData(DIRECT_UNIT)], 0, 100)).rejects.toThrow(/not aligned/);
    await writer.close();
  });
});
