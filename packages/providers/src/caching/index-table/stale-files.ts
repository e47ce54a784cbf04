/**
 * Removing a table folder's leftovers: runs and owner files no state names any more, and temp
 * files of builds that died. Only files older than `before` go: a file younger than that may
 * belong to a build or refresh of another process still under way.
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export function sweepStaleFiles(dir: string, keep: ReadonlySet<string>, before: number): void {
  for (const name of readdirSync(dir)) {
    if (keep.has(name)) continue;
    try {
      if (statSync(join(dir, name)).mtimeMs < before) unlinkSync(join(dir, name));
    } catch {
      // removed by another process meanwhile
    }
  }
}
