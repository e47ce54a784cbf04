import { describe, expect, it } from 'vitest';
import { BlobType, Compression } from '../format/codec-ids.js';
import { ID_BYTES } from '../format/ids.js';
import type { EncodedFrame } from '../format/frame-codec.js';
import type { StoredFrame } from './pack-writer.js';
import { FrameBuilder } from './frame-builder.js';

const FRAME = 1024;

function id(n: number): Uint8Array {
  const b = new Uint8Array(ID_BYTES);
  b[0] = n;
  return b;
}

describe('FrameBuilder', () => {
  it('sinks frames in the order they were filled, though their encodes finish in reverse', async () => {
    // Each encode takes longer the earlier its frame: with three in flight they finish last-first.
    let started = 0;
    const encode = (raw: Uint8Array): Promise<EncodedFrame> => {
      const delay = (4 - started++) * 15;
      return new Promise((resolve) => setTimeout(() => resolve({ stored: Buffer.from(raw), compression: Compression.None }), delay));
    };
    const sunk: StoredFrame[] = [];
    const builder = new FrameBuilder(
      BlobType.Data,
      encode,
      async (f) => {
        sunk.push(f);
      },
      3,
      FRAME,
    );
    for (let n = 0; n < 4; n++) await builder.add(id(n), new Uint8Array(FRAME).fill(n));
    await builder.close();

    expect(sunk.map((f) => f.ids[0])).toEqual([0, 1, 2, 3]);
    expect(sunk.map((f) => f.stored[0])).toEqual([0, 1, 2, 3]);
  });

  it('reports a failed encode from close, and sinks none of the frames after it', async () => {
    let calls = 0;
    const encode = async (raw: Uint8Array): Promise<EncodedFrame> => {
      if (calls++ === 1) throw new Error('codec thread died');
      return { stored: Buffer.from(raw), compression: Compression.None };
    };
    const sunk: number[] = [];
    const builder = new FrameBuilder(
      BlobType.Data,
      encode,
      async (f) => {
        sunk.push(f.ids[0]!);
      },
      3,
      FRAME,
    );
    const run = async () => {
      for (let n = 0; n < 3; n++) await builder.add(id(n), new Uint8Array(FRAME));
      await builder.close();
    };
    await expect(run()).rejects.toThrow('codec thread died');
    expect(sunk).toEqual([0]);
  });
});
