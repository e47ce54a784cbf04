/**
 * The repository's master key pair in memory: `enc` seals frames and objects, `id` keys blob ids.
 * Apart from the key files that wrap it (master-keys.ts) because codec worker threads load this
 * and nothing of the key files' schema: each thread that imported zod spent ~0.15 s of CPU
 * starting, and a CLI archive or restore starts two.
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

export const KEY_BYTES = 32;

export interface MasterKeys {
  /** Raw key bytes, to hand to worker threads; never logged, never in job payloads. */
  encRaw: Uint8Array | undefined;
  idRaw: Uint8Array;
  enc: KeyObject | undefined;
  id: KeyObject;
}

export function masterKeysFrom(encRaw: Uint8Array | undefined, idRaw: Uint8Array): MasterKeys {
  // Own copies: worker-thread messages then carry 32 bytes, not a shared allocation pool.
  const enc = encRaw && new Uint8Array(encRaw);
  const id = new Uint8Array(idRaw);
  return { encRaw: enc, idRaw: id, enc: enc && createSecretKey(enc), id: createSecretKey(id) };
}

export function generateMasterKeys(encrypted: boolean): MasterKeys {
  return masterKeysFrom(encrypted ? randomBytes(KEY_BYTES) : undefined, randomBytes(KEY_BYTES));
}
