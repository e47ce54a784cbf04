/**
 * Volume keys: the name of a volume's folder of snapshot objects (`snapshots/<volume key>/`).
 * Listing one volume's snapshots then lists one prefix instead of every snapshot of the
 * repository. The key is keyed like blob ids (HMAC-SHA-256 under the id key), so object names do
 * not reveal volume ids to someone without the repository's keys; the domain prefix keeps it
 * apart from the id of a blob that happens to hold the same bytes.
 */
import { createHmac, type KeyObject } from 'node:crypto';

/** 16 bytes: collisions between volumes need ~2^64 of them, and keys stay short in listings. */
export const VOLUME_KEY_BYTES = 16;

const DOMAIN = 'snapfleet volume\0';

/** 32 lowercase hex digits: the first 16 bytes of HMAC-SHA-256(id key, "snapfleet volume\0" + volumeId). */
export function volumeKey(idKey: KeyObject, volumeId: string): string {
  return createHmac('sha256', idKey)
    .update(DOMAIN + volumeId, 'utf8')
    .digest()
    .subarray(0, VOLUME_KEY_BYTES)
    .toString('hex');
}
