// Drops a folder's files from the page cache, so that a restore measured after it reads its
// repository from the disk whichever tool wrote it: snapfleet writes packs with O_DIRECT (never
// cached), restic through the page cache (cached until memory runs short), and a bench that left
// that alone compared a cold read with a warm one. posix_fadvise(POSIX_FADV_DONTNEED) drops the
// clean pages of one file, needs no privileges (unlike /proc/sys/vm/drop_caches) and leaves the
// rest of the host's cache alone; Node has no binding for it, Python's os module has.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

const EVICT = `
import os, sys
n = 0
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        try:
            fd = os.open(os.path.join(d, f), os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            n += 1
        finally:
            os.close(fd)
print(n)
`;

/** `sync`s, then drops every file under `root` from the page cache; returns how many files. */
export async function evictPageCache(root) {
  await execFileP('sync'); // dirty pages are not dropped: write them first
  const { stdout } = await execFileP('python3', ['-c', EVICT, root]);
  return Number(stdout.trim());
}
