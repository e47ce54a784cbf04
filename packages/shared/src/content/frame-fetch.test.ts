import { describe, expect, it } from 'vitest';
import { packKey } from '../format/layout.js';
import { MemoryBlobStore } from '../testing/memory-blob-store.js';
import type { BlobStore } from '../ports/blob-store.js';
import { BlobType, Compression } from '../format/codec-ids.js';
import { fetchRuns, type FrameRef } from './frame-fetch.js';

const packA = 'a'.repeat(64);
const packB = 'b'.repeat(64);

async function storeWithPacks(): Promise<MemoryBlobStore> {
  const store = new MemoryBlobStore();
  await store.put(
    packKey(packA),
    Uint8Array.from({ length: 4096 }, (_, i) => i % 251),
  );
  await store.put(
    packKey(packB),
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) % 251),
  );
  return store;
}

const ref = (frameNo: number, packId: string, offset: number, storedLength: number): FrameRef => ({
  frameNo,
  frame: { packId, offset, storedLength, rawLength: storedLength, compression: Compression.None, type: BlobType.Data },
});

/** Frames in two packs: A's two frames merge into one run, B's frame is a run of its own. */
const refs = [ref(0, packA, 100, 50), ref(1, packB, 1000, 300), ref(2, packA, 200, 100)];

async function bytesOf(store: BlobStore, r: FrameRef): Promise<Uint8Array> {
  return store.get(packKey(r.frame.packId), { offset: r.frame.offset, length: r.frame.storedLength });
}

describe('fetchRuns', () => {
  it('reads merged runs into the given memory, one after another, while they fit', async () => {
    const store = await storeWithPacks();
    const memory = new Uint8Array(new SharedArrayBuffer(250));
    const { runs, placements } = await fetchRuns(store, refs, memory);
    expect(runs).toHaveLength(2);
    // The first run (A, 200 bytes) fits; the second (B, 300 bytes) gets memory of its own.
    expect(runs[0]!.buffer).toBe(memory.buffer);
    expect(runs[1]!.buffer).not.toBe(memory.buffer);
    for (const [i, r] of refs.entries()) {
      const { run, offset } = placements[i]!;
      expect(Buffer.compare(runs[run]!.subarray(offset, offset + r.frame.storedLength), await bytesOf(store, r))).toBe(0);
    }
  });

  it('reads with get when the store has no getInto', async () => {
    const inner = await storeWithPacks();
    const getOnly: BlobStore = {
      location: 'get-only',
      get: (k, r) => inner.get(k, r),
      put: (k, d) => inner.put(k, d),
      stat: (k) => inner.stat(k),
      list: (p) => inner.list(p),
      delete: (k) => inner.delete(k),
    };
    const memory = new Uint8Array(new SharedArrayBuffer(1024));
    const { runs } = await fetchRuns(getOnly, refs, memory);
    for (const run of runs) expect(run.buffer).not.toBe(memory.buffer);
  });
});
