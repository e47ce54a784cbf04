// Copies a folder repository into an S3 bucket, so that the same repository (same objects, same
// snapshot ids) can be restored over S3 without archiving the history a second time. Keys are the
// folder store's: key `a/b/c` is the file ROOT/a/b/c, and names starting with a dot are temp
// files, never objects (packages/providers/src/local/folder-blob-store.ts). The upload goes
// through snapfleet's own S3 store (`@snapfleet/providers/s3`, loaded on demand so that other
// scenarios run before the packages are built), so the bucket holds what the CLI would have put.
//
// Incremental: objects are immutable once written (docs/format.md, "Object layout"), so a key
// already copied with the same size is not copied again; a key gone from the folder (the lock
// of a finished archive) is deleted from the bucket.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';

/** Uploads in flight: enough to keep s3rver busy on 2 cores without holding many packs in memory. */
const CONCURRENCY = 4;

/** key -> size of every object in the folder repository. */
async function folderObjects(root, dirKey = '', out = new Map()) {
  for (const ent of await readdir(join(root, ...dirKey.split('/').filter(Boolean)), { withFileTypes: true })) {
    if (ent.name.startsWith('.')) continue;
    const key = dirKey + ent.name;
    if (ent.isDirectory()) await folderObjects(root, `${key}/`, out);
    else if (ent.isFile()) out.set(key, (await lstat(join(root, ...key.split('/')))).size);
  }
  return out;
}

async function inPool(items, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/**
 * A mirror of the folder repository `root` at `repoUrl` (`s3://bucket/prefix`), reached with the
 * S3 settings in `env`. `sync()` brings the bucket up to the folder's current state.
 */
export async function createRepoMirror({ root, repoUrl, env }) {
  const { S3BlobStore } = await import('@snapfleet/providers/s3');
  const store = S3BlobStore.fromEnv(repoUrl, env);
  const copied = new Map(); // key -> size in the bucket
  return {
    repoUrl,
    async sync() {
      const t0 = process.hrtime.bigint();
      const now = await folderObjects(root);
      const upload = [...now.keys()].filter((key) => copied.get(key) !== now.get(key));
      const gone = [...copied.keys()].filter((key) => !now.has(key));
      let bytes = 0;
      await inPool(upload, async (key) => {
        const data = await readFile(join(root, ...key.split('/')));
        await store.put(key, data);
        copied.set(key, data.byteLength);
        bytes += data.byteLength;
      });
      await inPool(gone, async (key) => {
        await store.delete(key);
        copied.delete(key);
      });
      return { objects: upload.length, bytes, deleted: gone.length, total: copied.size, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
    },
    close: () => store.destroy(),
  };
}
