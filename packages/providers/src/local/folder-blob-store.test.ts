import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { InvalidInputError, NotFoundError } from '@snapfleet/shared';
import { describeBlobStoreConformance, randomData } from '@snapfleet/shared/testing';
import { DirectWriter } from './direct-io.js';
import { FolderBlobStore } from './folder-blob-store.js';

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'snapfleet-folder-store-'));
}

describeBlobStoreConformance('FolderBlobStore', async () => {
  const root = await tempRoot();
  // A root that does not exist yet: the first put must create it.
  return { store: new FolderBlobStore(join(root, 'repo')), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('FolderBlobStore', () => {
  const withRoot = async (test: (root: string, store: FolderBlobStore) => Promise<void>): Promise<void> => {
    const root = await tempRoot();
    try {
      await test(root, new FolderBlobStore(root));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  };
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

  it('stores a large multi-part object byte for byte, direct or buffered', () =>
    withRoot(async (root) => {
      // Parts of odd lengths, a total that is not a whole number of blocks: the direct head ends
      // inside a part and the buffered tail continues from there.
      const parts = [randomData(1_000_003), randomData(3 * 1024 * 1024 + 17), randomData(4095)];
      const whole = Buffer.concat(parts);
      const write = vi.spyOn(DirectWriter.prototype, 'write');
      try {
        for (const directIo of [true, false]) {
          const store = new FolderBlobStore(join(root, String(directIo)), { directIo });
          await store.put('data/ab/pack', parts);
          expect(Buffer.compare(Buffer.from(await store.get('data/ab/pack')), whole), `directIo ${directIo}`).toBe(0);
          expect((await stat(join(root, String(directIo), 'data', 'ab', 'pack'))).size).toBe(whole.length);
        }
        expect(write.mock.calls.map(([, offset, length]) => [offset, length])).toEqual([[0, whole.length - (whole.length % 4096)]]);
      } finally {
        write.mockRestore();
      }
    }));

  it('rejects keys that could escape the folder or collide with temp files', () =>
    withRoot(async (_root, store) => {
      for (const key of ['', '../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/', '.hidden', 'a/.tmp-x', 'a/./b', 'a\\b', 'a b']) {
        await expect(store.put(key, bytes('x')), key).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidInputError);
      }
      const listAll = async (prefix: string): Promise<void> => {
        for await (const _ of store.list(prefix)) void _;
      };
      await expect(listAll('../')).rejects.toBeInstanceOf(InvalidInputError);
      await expect(listAll('/etc')).rejects.toBeInstanceOf(InvalidInputError);
    }));

  it('stores keys as nested files and leaves no temp files behind', () =>
    withRoot(async (root, store) => {
      await store.put('data/ab/abcdef', bytes('payload'));
      expect(await readdir(join(root, 'data', 'ab'))).toEqual(['abcdef']);
      expect((await stat(join(root, 'data', 'ab', 'abcdef'))).mode & 0o777).toBe(0o600);
    }));

  it('skips temp files and other dot-files when listing', () =>
    withRoot(async (root, store) => {
      await store.put('index/one', bytes('1'));
      await writeFile(join(root, 'index', '.tmp-two.0123456789abcdef'), 'partial');
      await mkdir(join(root, '.git'));
      await writeFile(join(root, '.git', 'config'), 'x');
      const keys: string[] = [];
      for await (const info of store.list('')) keys.push(info.key);
      expect(keys).toEqual(['index/one']);
    }));

  it('sweeps temp files older than the cut-off, and nothing else', () =>
    withRoot(async (root, store) => {
      await store.put('data/ab/abcdef', bytes('payload'));
      const old = join(root, 'data', 'ab', '.tmp-abcd01.0123456789abcdef');
      const fresh = join(root, 'data', 'ab', '.tmp-abcd02.0123456789abcdef');
      const rootOld = join(root, '.tmp-config.fedcba9876543210');
      await writeFile(old, 'partial pack');
      await writeFile(fresh, 'being written');
      await writeFile(rootOld, 'cfg');
      await mkdir(join(root, '.git'));
      await writeFile(join(root, '.git', 'HEAD'), 'not ours');
      const dayAgo = new Date(Date.now() - 86_400_000);
      await utimes(old, dayAgo, dayAgo);
      await utimes(rootOld, dayAgo, dayAgo);
      const swept = await store.sweepIncomplete(new Date(Date.now() - 3_600_000));
      expect(swept).toEqual({ count: 2, bytes: 'partial pack'.length + 'cfg'.length });
      expect((await readdir(join(root, 'data', 'ab'))).sort()).toEqual(['.tmp-abcd02.0123456789abcdef', 'abcdef']);
      expect(await readdir(join(root, '.git'))).toEqual(['HEAD']);
      expect(await store.sweepIncomplete(new Date())).toEqual({ count: 1, bytes: 'being written'.length });
    }));

  it('treats a directory as no object', () =>
    withRoot(async (_root, store) => {
      await store.put('dir/file', bytes('x'));
      await expect(store.get('dir')).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.stat('dir')).toBeUndefined();
      await store.delete('dir');
      expect(await store.stat('dir/file')).toEqual({ key: 'dir/file', size: 1 });
    }));

  it('lists nothing and finds nothing in a folder that does not exist', () =>
    withRoot(async (root) => {
      const store = new FolderBlobStore(join(root, 'missing'));
      for await (const _ of store.list('')) throw new Error('listed an object in a missing folder');
      await expect(store.get('x')).rejects.toBeInstanceOf(NotFoundError);
      await store.delete('x');
    }));

  it('names the folder in its location', () => {
    expect(new FolderBlobStore('/srv/backups/repo').location).toBe('/srv/backups/repo');
  });
});
