import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PackWriter, type StoredFrame } from './pack-writer.js';
import { MemoryBlobStore } from '../testing/memory-blob-store.js';
import { generateMasterKeys } from '../format/master-keys.js';
import { BlobType, Compression } from '../format/codec-ids.js';
import type { BlobData } from '../ports/blob-store.js';

const PACK = 64 * 1024;
const FRAME = 16 * 1024;

/** A store whose pack puts wait until released, as a slow upload does. */
class GatedStore extends MemoryBlobStore {
  packPuts = 0;
  private release = (): void => {};
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));

  override async put(key: string, data: BlobData): Promise<void> {
    if (key.startsWith('data/')) {
      this.packPuts++;
      await this.gate;
    }
    await super.put(key, data);
  }

  open(): void {
    this.release();
  }
}

function frame(): StoredFrame {
  const stored = randomBytes(FRAME);
  return {
    type: BlobType.Data,
    compression: Compression.None,
    storedLength: FRAME,
    rawLength: FRAME,
    ids: randomBytes(32),
    lengths: Uint32Array.of(FRAME),
    stored,
  };
}

describe('PackWriter', () => {
  it('makes producers wait while its uploads are busy instead of filling more pack buffers', async () => {
    const store = new GatedStore();
    const stored: string[] = [];
    const writer = new PackWriter(store, generateMasterKeys(true), (p) => void stored.push(p.packId), PACK);
    // Twelve producers at once, as blocks in flight and manifest frames are: 48 frames, 12 packs.
    let accepted = 0;
    const producers = Array.from({ length: 12 }, async () => {
      for (let i = 0; i < 4; i++) {
        await writer.add(frame());
        accepted++;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Two packs uploading, a third full one waiting for a slot: nothing more is taken in, so
    // no fourth pack buffer exists. Without turns every producer started a buffer of its own.
    expect(store.packPuts).toBe(2);
    expect(accepted).toBeLessThanOrEqual((3 * PACK) / FRAME);
    store.open();
    await Promise.all(producers);
    await writer.close();
    expect(accepted).toBe(48);
    expect(stored.length).toBe(12);
    expect(store.keys().filter((k) => k.startsWith('index/')).length).toBe(12);
  });
});
