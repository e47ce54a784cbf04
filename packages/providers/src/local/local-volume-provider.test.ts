import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeVolumeProviderConformance } from '@snapfleet/shared/testing';
import { LocalVolumeProvider, type LocalVolumeSpec } from './local-volume-provider.js';

describeVolumeProviderConformance(
  'LocalVolumeProvider (image files)',
  async (volumes) => {
    const dir = await mkdtemp(join(tmpdir(), 'snapfleet-local-provider-'));
    const specs: Record<string, LocalVolumeSpec> = {};
    const ids: string[] = [];
    for (const [i, v] of volumes.entries()) {
      // Ids that do not sort like the names, so the suite sees sorting by id.
      const id = `vol${String.fromCharCode(99 - i)}`;
      const path = join(dir, `${v.name}.img`);
      await writeFile(path, v.data);
      specs[id] = { path, name: v.name, tags: v.tags };
      ids.push(id);
    }
    return {
      provider: new LocalVolumeProvider(specs),
      ids,
      missingVolumeId: 'vol-missing',
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { keepsSnapshots: false },
);
