/**
 * Layout lists (`layouts/<volume key>/<snapshot id>/<64 hex random>`): written by locality
 * maintenance (engine/locality.ts) after it copied a scattered snapshot's blobs into packs laid
 * out in volume order. The payload is a pack list (format/pack-list.ts): the packs that held
 * every blob the snapshot references when it was written, the new contiguous packs and the old
 * packs the snapshot still reads densely. Readers of that snapshot (a restore, an archive taking
 * its parent's list over) use it in place of the list the snapshot names. Like every pack list
 * it is a hint: a blob not found in its packs is looked up in the index.
 */
import { randomBytes } from 'node:crypto';

export const LAYOUTS_PREFIX = 'layouts/';

const LAYOUT_KEY = /^layouts\/([0-9a-f]{32})\/([0-9a-f]{64})\/([0-9a-f]{64})$/;

/** Where the layout lists of one snapshot live. */
export function snapshotLayoutsPrefix(volumeKey: string, snapshotId: string): string {
  return `${LAYOUTS_PREFIX}${volumeKey}/${snapshotId}/`;
}

/** A new layout list's key: random, so a second relocation never overwrites the first. */
export function newLayoutKey(volumeKey: string, snapshotId: string): string {
  return `${snapshotLayoutsPrefix(volumeKey, snapshotId)}${randomBytes(32).toString('hex')}`;
}

/** The snapshot a layout key belongs to, or undefined for a key that is not a layout list. */
export function parseLayoutKey(key: string): { volumeKey: string; snapshotId: string } | undefined {
  const m = LAYOUT_KEY.exec(key);
  return m ? { volumeKey: m[1]!, snapshotId: m[2]! } : undefined;
}
