/**
 * Damage records (damaged/<random>): packs that verify or a repair found missing, truncated or
 * holding blobs that do not read back. Archives leave these packs out of the index they
 * deduplicate against, so a new archive stores the affected content afresh instead of pointing
 * at the broken copy; `repair packs` salvages what reads and marks the record's packs removed.
 */
import { z } from 'zod';
import { parseJsonObject } from './json-object.js';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const DAMAGE_KINDS = ['missing-pack', 'truncated-pack', 'corrupt-pack', 'corrupt-blob'] as const;
export type PackDamageKind = (typeof DAMAGE_KINDS)[number];

const recordSchema = z.object({
  version: z.literal(1),
  created: z.iso.datetime(),
  packs: z.array(
    z.object({
      packId: hex64,
      kind: z.enum(DAMAGE_KINDS),
      /** Set by `repair packs` once the pack's readable blobs are in new packs and it is deleted. */
      removed: z.iso.datetime().optional(),
    }),
  ),
});
export type DamageRecord = z.infer<typeof recordSchema>;
export type DamagedPack = DamageRecord['packs'][number];

export function encodeDamageRecord(r: DamageRecord): Buffer {
  return Buffer.from(JSON.stringify(r));
}

export function decodeDamageRecord(payload: Uint8Array, key: string): DamageRecord {
  return parseJsonObject(payload, recordSchema, `damage record ${key}`, { object: key });
}
