/**
 * The VolumeSource conformance suite: the suite makes the volume's bytes, the factory wraps them
 * in the source under test (a memory fake, an image file, a loop device), and the suite checks
 * that the source reads them back exactly, block by block, concurrently.
 */
import { describe, expect, it } from 'vitest';
import type { VolumeSource } from '../ports/volume-source.js';
import { isPowerOfTwo } from './memory-volume-source.js';
import { mapLimit, seededBytes, sha256Hex } from './test-data.js';

export interface VolumeSourceFixture {
  source: VolumeSource;
  cleanup(): Promise<void>;
}

/**
 * Builds a source holding exactly `content`. Its blockSize must be smaller than the content and
 * must not divide it, so the suite sees a short last block.
 */
export type VolumeSourceFactory = (content: Uint8Array) => Promise<VolumeSourceFixture>;

export interface VolumeSourceConformanceOptions {
  /** @defaultValue 5 MiB + 64 KiB + 512: a whole number of 512-byte sectors (so a loop device can hold it) that no usual block size divides */
  sizeBytes?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const DEFAULT_SIZE = 5 * MiB + 64 * KiB + 512;
/** Enough readers in flight to expose shared-buffer or file-position bugs. */
const READ_CONCURRENCY = 8;

/** The suite's volume: seeded random data with an all-zero stretch, like a real disk's holes. */
export function conformanceVolume(sizeBytes = DEFAULT_SIZE): Uint8Array {
  const content = seededBytes(sizeBytes, 0x5eed);
  content.fill(0, MiB, Math.min(sizeBytes, 2 * MiB + 512));
  return content;
}

export function describeVolumeSourceConformance(name: string, factory: VolumeSourceFactory, options: VolumeSourceConformanceOptions = {}): void {
  const content = conformanceVolume(options.sizeBytes);
  const expectedSha256 = sha256Hex(content);
  const withSource = async (test: (source: VolumeSource) => Promise<void>): Promise<void> => {
    const { source, cleanup } = await factory(content);
    try {
      await test(source);
    } finally {
      await source.close();
      await cleanup();
    }
  };
  const blockCount = (source: VolumeSource): number => Math.ceil(source.sizeBytes / source.blockSize);
  const expectedBlock = (source: VolumeSource, index: number): Uint8Array =>
    content.subarray(index * source.blockSize, Math.min((index + 1) * source.blockSize, content.length));

  describe(`VolumeSource conformance: ${name}`, () => {
    it('reports the volume size and a power-of-two block size that leaves a short last block', () =>
      withSource(async (source) => {
        expect(source.sizeBytes).toBe(content.length);
        expect(isPowerOfTwo(source.blockSize), `blockSize ${source.blockSize}`).toBe(true);
        expect(source.blockSize).toBeLessThan(source.sizeBytes);
        expect(source.sizeBytes % source.blockSize, 'the factory must pick a blockSize that leaves a short last block').not.toBe(0);
      }));

    it('reads full blocks and a short last block', () =>
      withSource(async (source) => {
        const count = blockCount(source);
        for (let index = 0; index < count; index++) {
          const block = await source.readBlock(index);
          const want = index < count - 1 ? source.blockSize : source.sizeBytes - (count - 1) * source.blockSize;
          expect(block.length, `block ${index}`).toBe(want);
        }
      }));

    it('reads content that matches the known sha256', () =>
      withSource(async (source) => {
        const whole = new Uint8Array(source.sizeBytes);
        for (let index = 0; index < blockCount(source); index++) whole.set(await source.readBlock(index), index * source.blockSize);
        expect(sha256Hex(whole)).toBe(expectedSha256);
      }));

    it('serves concurrent reads, each into its own buffer', () =>
      withSource(async (source) => {
        const indexes = Array.from({ length: blockCount(source) }, (_, i) => i);
        const doubled = [...indexes, ...indexes].reverse();
        const blocks = await mapLimit(doubled, READ_CONCURRENCY, (index) => source.readBlock(index));
        blocks.forEach((block, i) => {
          const index = doubled[i] as number;
          expect(sha256Hex(block), `block ${index}`).toBe(sha256Hex(expectedBlock(source, index)));
          // The engine transfers blocks to worker threads: a block must own its whole ArrayBuffer.
          expect(block.byteOffset).toBe(0);
          expect(block.buffer.byteLength).toBe(block.length);
        });
        const first = blocks[0] as Uint8Array;
        first.fill(0xaa);
        const again = await source.readBlock(doubled[0] as number);
        expect(sha256Hex(again)).toBe(sha256Hex(expectedBlock(source, doubled[0] as number)));
      }));

    it('reads into a caller-provided shared buffer at an offset', () =>
      withSource(async (source) => {
        const shared = new Uint8Array(new SharedArrayBuffer(source.blockSize + 4096), 4096, source.blockSize);
        const last = blockCount(source) - 1;
        for (const index of [0, last]) {
          shared.fill(0x55);
          const block = await source.readBlock(index, shared);
          expect(block.buffer, `block ${index} is a view of the given buffer`).toBe(shared.buffer);
          expect(block.byteOffset).toBe(4096);
          expect(sha256Hex(new Uint8Array(block)), `block ${index}`).toBe(sha256Hex(expectedBlock(source, index)));
        }
        await expect(source.readBlock(0, new Uint8Array(16))).rejects.toThrow();
      }));

    it('rejects block numbers outside the volume', () =>
      withSource(async (source) => {
        await expect(source.readBlock(blockCount(source))).rejects.toThrow();
        await expect(source.readBlock(-1)).rejects.toThrow();
        await expect(source.readBlock(0.5)).rejects.toThrow();
      }));

    it('lists written blocks ascending and unique, covering every non-zero block', () =>
      withSource(async (source) => {
        const listed: number[] = [];
        for await (const index of source.writtenBlocks()) listed.push(index);
        for (let i = 1; i < listed.length; i++) expect(listed[i] as number).toBeGreaterThan(listed[i - 1] as number);
        for (const index of listed) expect(index >= 0 && index < blockCount(source), `block ${index}`).toBe(true);
        const listedSet = new Set(listed);
        for (let index = 0; index < blockCount(source); index++) {
          if (expectedBlock(source, index).some((byte) => byte !== 0)) expect(listedSet.has(index), `block ${index}`).toBe(true);
        }
      }));

    it('answers changedBlocksSince for an unknown parent with undefined or an ascending list', () =>
      withSource(async (source) => {
        const changed = await source.changedBlocksSince('snap-conformance-unknown-parent');
        if (changed === undefined) return;
        let previous = -1;
        for await (const index of changed) {
          expect(index).toBeGreaterThan(previous);
          previous = index;
        }
      }));

    it('closes idempotently', () =>
      withSource(async (source) => {
        await source.readBlock(0);
        await source.close();
        await source.close();
      }));
  });
}
