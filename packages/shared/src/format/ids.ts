/**
 * Blob ids: HMAC-SHA-256 of the plaintext under the repository's id key. Equal plaintext gives
 * equal ids (deduplication across snapshots, volumes and hosts); without the key an id reveals
 * nothing about the content, so encrypted repositories leak no "does it contain X" answers.
 */
import { createHmac, type KeyObject } from 'node:crypto';

export const ID_BYTES = 32;

/** The id that stands for an all-zero chunk or an all-hole subtree: recorded, never stored. */
export const HOLE_ID = new Uint8Array(ID_BYTES);

export function blobId(idKey: KeyObject, data: Uint8Array): Buffer {
  return createHmac('sha256', idKey).update(data).digest();
}

export function isHole(ids: Uint8Array, offset: number): boolean {
  for (let i = offset; i < offset + ID_BYTES; i++) if (ids[i] !== 0) return false;
  return true;
}

export function toHex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

export function fromHex(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}
