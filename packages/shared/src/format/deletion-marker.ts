/**
 * Deletion markers (prune/<id>): the packs one prune run condemned. Archives that see a marker
 * do not deduplicate against its packs; the packs are deleted only after every archive that
 * might not have seen the marker is gone (`blockingLeases`, filled in after the marker exists).
 */
import { z } from 'zod';
import { parseJsonObject } from './json-object.js';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const markerSchema = z.object({
  version: z.literal(1),
  created: z.iso.datetime(),
  packs: z.array(hex64),
  /** Leases listed after the marker was stored; null until a prune has listed them. */
  blockingLeases: z.array(z.string()).nullable(),
});
export type DeletionMarker = z.infer<typeof markerSchema>;

export function encodeMarker(m: DeletionMarker): Buffer {
  return Buffer.from(JSON.stringify(m));
}

export function decodeMarker(payload: Uint8Array, key: string): DeletionMarker {
  return parseJsonObject(payload, markerSchema, `deletion marker ${key}`, { object: key });
}
