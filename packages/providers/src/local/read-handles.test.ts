import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { NotFoundError } from '@snapfleet/shared';
import { randomData } from '@snapfleet/shared/testing';
import { FolderBlobStore } from './folder-blob-store.js';
import { ReadHandles } from './read-handles.js';
import { readFully } from './positional-io.js';

describe('ReadHandles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapfleet-handles-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** Reads 4 bytes at `at` of `path` through `handles`. */
  const read4 = (handles: ReadHandles, path: string, at = 0) =>
    handles.use(path, async (h, size) => {
      const out = new Uint8Array(4);
      await readFully(h, out, at);
      return { bytes: Buffer.from(out).toString('hex'), size };
    });

  const files = async (n: number) => {
    const out: { path: string; data: Uint8Array }[] = [];
    for (let i = 0; i < n; i++) {
      const path = join(dir, `f${i}`);
      const data = randomData(4096);
      await writeFile(path, data);
      out.push({ path, data });
    }
    return out;
  };
  const hex = (d: Uint8Array, at = 0) => Buffer.from(d.subarray(at, at + 4)).toString('hex');

  it('reuses one open handle per file, so a file unlinked since is still read through it', async () => {
    const handles = new ReadHandles(4, 60_000);
    const [a] = await files(1);
    expect(await read4(handles, a!.path)).toEqual({ bytes: hex(a!.data), size: 4096 });
    await unlink(a!.path);
    // Concurrent reads share the handle opened before the unlink.
    const reads = await Promise.all([0, 100, 200].map((at) => read4(handles, a!.path, at)));
    expect(reads.map((r) => r.bytes)).toEqual([0, 100, 200].map((at) => hex(a!.data, at)));
    handles.closeIdle();
    await expect(read4(handles, a!.path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps at most `max` handles, closing the least recently used', async () => {
    const handles = new ReadHandles(2, 60_000);
    const fs = await files(3);
    for (const f of fs) await read4(handles, f.path);
    for (const f of fs) await unlink(f.path);
    // f0 was closed when f2 came in; f1 and f2 are still open.
    await expect(read4(handles, fs[0]!.path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await read4(handles, fs[2]!.path)).bytes).toBe(hex(fs[2]!.data));
    expect((await read4(handles, fs[1]!.path)).bytes).toBe(hex(fs[1]!.data));
    handles.closeIdle();
  });

  it('closes every handle after a quiet spell, which each read starts again', async () => {
    // The spell is a setTimeout, faked here; the file reads are real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => void vi.useRealTimers());
    const handles = new ReadHandles(4, 1_000);
    const [a] = await files(1);
    await read4(handles, a!.path);
    await unlink(a!.path);
    // Reads 900 ms apart keep the handle (opened before the unlink) open past the first second.
    for (let i = 0; i < 2; i++) {
      await vi.advanceTimersByTimeAsync(900);
      expect((await read4(handles, a!.path)).bytes).toBe(hex(a!.data));
    }
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(read4(handles, a!.path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a path that is not a file, and opens it afresh once it is one', async () => {
    const handles = new ReadHandles();
    const path = join(dir, 'sub');
    await writeFile(join(dir, 'placeholder'), 'x');
    await expect(read4(handles, dir)).rejects.toBeInstanceOf(NotFoundError);
    await expect(read4(handles, path)).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(path, Buffer.from('abcdefgh'));
    expect(await read4(handles, path)).toEqual({ bytes: Buffer.from('abcd').toString('hex'), size: 8 });
    handles.closeIdle();
  });
});

describe('FolderBlobStore ranged pack reads', () => {
  it('reads packs through reused handles, and a pack it deleted is gone at once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'snapfleet-packs-'));
    try {
      const store = new FolderBlobStore(root);
      const data = randomData(3 * 65536);
      await store.put('data/ab/pack', data);
      for (let at = 0; at < data.length; at += 65536) {
        expect(Buffer.compare(Buffer.from(await store.get('data/ab/pack', { offset: at, length: 65536 })), Buffer.from(data.subarray(at, at + 65536)))).toBe(0);
      }
      const into = new Uint8Array(100);
      expect(Buffer.from(await store.getInto('data/ab/pack', { offset: 5, length: 100 }, into)).equals(Buffer.from(data.subarray(5, 105)))).toBe(true);
      // Past the end is refused, as without reuse.
      await expect(store.get('data/ab/pack', { offset: data.length - 10, length: 20 })).rejects.toThrow();
      await store.delete('data/ab/pack');
      await expect(store.get('data/ab/pack', { offset: 0, length: 10 })).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
