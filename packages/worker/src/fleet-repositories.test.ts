import { describe, expect, it } from 'vitest';
import { initRepository, type BlobStore } from '@snapfleet/shared';
import { MemoryBlobStore } from '@snapfleet/shared/testing';
import { createFleetRepositories } from './fleet-repositories.js';

describe('createFleetRepositories', () => {
  it('keeps an unchanged repository open across a reload and reopens one whose location changed', async () => {
    const stores: Record<string, BlobStore> = { 'mem://a': new MemoryBlobStore(), 'mem://b': new MemoryBlobStore() };
    const ids = {
      a: (await initRepository(stores['mem://a']!, { encrypted: false })).config.id,
      b: (await initRepository(stores['mem://b']!, { encrypted: false })).config.id,
    };
    const opened: string[] = [];
    const repositories = createFleetRepositories({
      repositories: { main: { url: 'mem://a', compressionLevel: 3, packSizeMiB: 16 } },
      env: {},
      codecThreads: 1,
      openStore: (url) => {
        opened.push(url);
        return stores[url]!;
      },
    });
    try {
      expect((await repositories.open('main')).repo.config.id).toBe(ids.a);
      // A setting read per job changes without reopening (no second openStore, no key unwrap).
      repositories.update({ main: { url: 'mem://a', compressionLevel: 9, packSizeMiB: 16 } });
      const same = await repositories.open('main');
      expect([same.repo.config.id, same.settings.compressionLevel]).toEqual([ids.a, 9]);
      // A new location is opened afresh.
      repositories.update({ main: { url: 'mem://b', compressionLevel: 9, packSizeMiB: 16 } });
      expect((await repositories.open('main')).repo.config.id).toBe(ids.b);
      expect(opened).toEqual(['mem://a', 'mem://b']);
      // A repository removed from the config is refused, naming it.
      repositories.update({});
      await expect(repositories.open('main')).rejects.toThrow("repository main is not in this worker's configuration");
    } finally {
      await repositories.close();
    }
  });
});
