/**
 * The VolumeTarget conformance suite: the factory makes a fresh destination of the target under
 * test (memory, a file, a block device, a new EBS snapshot) and says how to read back what it
 * holds; the suite restores a volume into it the way the engine's restore does (runs of data that
 * straddle the destination's blocks, written concurrently and out of order, holes zeroed) and
 * checks the bytes, the order of calls the port allows, and what abort leaves behind.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError, PermanentError } from '../errors.js';
import type { VolumeTarget } from '../ports/volume-target.js';
import { conformanceVolume } from './volume-source-conformance.js';
import { mapLimit, seededBytes, sha256Hex } from './test-data.js';

export interface VolumeTargetFixture {
  target: VolumeTarget;
  /**
   * The first `sizeBytes` of what the destination holds now, as its reader would see them.
   * Undefined while nothing is published (before commit, after abort) for a target that writes
   * beside the destination; a target that writes in place returns its bytes at any time.
   */
  readBack(sizeBytes: number): Promise<Uint8Array | undefined>;
  cleanup(): Promise<void>;
}

/**
 * Makes a fresh destination for a volume of `sizeBytes`. A destination that writes in place
 * should start with bytes that are not the suite's volume (not zeros), so that holes the target
 * fails to zero show up.
 */
export type VolumeTargetFactory = (sizeBytes: number) => Promise<VolumeTargetFixture>;

export interface VolumeTargetConformanceOptions {
  /**
   * The target writes the destination in place (a block device): what an abort leaves there is
   * whatever was written, so the suite checks that only where the target can promise it.
   * @defaultValue false
   */
  writesInPlace?: boolean;
  /**
   * The factory's destination holds exactly `sizeBytes` (a device): the suite also checks that a
   * larger volume is refused at open. @defaultValue false
   */
  fixedCapacity?: boolean;
  /** @defaultValue 5 MiB + 64 KiB + 512, the VolumeSource suite's volume: a whole number of 512-byte sectors that no usual block size divides */
  sizeBytes?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** Run lengths the writes cycle through: a repository chunk, unaligned ones, one larger than an EBS block. */
const RUN_LENGTHS = [96 * KiB, 4 * KiB + 1, 700 * KiB, 512, 33 * KiB - 7];
/** Writes in flight at once, as a restore keeps several windows decoding. */
const WRITE_CONCURRENCY = 8;
/** The largest zero() call: a restore zeroes a hole in pieces no bigger than a chunk window. */
const ZERO_PIECE = 256 * KiB;

interface Call {
  kind: 'write' | 'zero';
  offset: number;
  length: number;
}

/** All-zero stretches at least this long are holes in the archive: restore zeroes them. */
const MIN_HOLE = 64 * KiB;

/**
 * The calls a restore makes for `content`: its holes become zero() calls, the rest write() runs
 * of varied lengths; every byte is covered once, nothing overlaps.
 */
function restoreCalls(content: Uint8Array): Call[] {
  const calls: Call[] = [];
  let run = 0;
  let at = 0;
  for (const [from, to] of [...holes(content), [content.length, content.length] as const]) {
    for (; at < from; run++) {
      const length = Math.min(RUN_LENGTHS[run % RUN_LENGTHS.length]!, from - at);
      calls.push({ kind: 'write', offset: at, length });
      at += length;
    }
    for (; at < to; at = Math.min(to, at + ZERO_PIECE)) calls.push({ kind: 'zero', offset: at, length: Math.min(ZERO_PIECE, to - at) });
  }
  return calls;
}

/** [from, to) of every stretch of zeros at least MIN_HOLE long, ascending. */
function holes(content: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < content.length;) {
    if (content[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < content.length && content[end] === 0) end++;
    if (end - i >= MIN_HOLE) out.push([i, end]);
    i = end;
  }
  return out;
}

/** Odd calls first, then the even ones backwards: out of order, as concurrent windows finish. */
function outOfOrder<T>(items: readonly T[]): T[] {
  return [...items.filter((_, i) => i % 2 === 1), ...items.filter((_, i) => i % 2 === 0).reverse()];
}

/**
 * Feeds `content` to an opened target as restore does. Each write gets its own copy, scribbled
 * over as soon as the write resolves: the target must not keep the caller's buffer.
 */
async function restoreInto(target: VolumeTarget, content: Uint8Array): Promise<void> {
  await mapLimit(outOfOrder(restoreCalls(content)), WRITE_CONCURRENCY, async (call) => {
    if (call.kind === 'zero') return target.zero(call.offset, call.length);
    const run = content.slice(call.offset, call.offset + call.length);
    await target.write(call.offset, run);
    run.fill(0xee);
  });
}

export function describeVolumeTargetConformance(name: string, factory: VolumeTargetFactory, options: VolumeTargetConformanceOptions = {}): void {
  const content = conformanceVolume(options.sizeBytes);
  const size = content.length;
  const withTarget = async (sizeBytes: number, test: (fixture: VolumeTargetFixture) => Promise<void>): Promise<void> => {
    const fixture = await factory(sizeBytes);
    try {
      await test(fixture);
    } finally {
      await fixture.target.abort();
      await fixture.cleanup();
    }
  };

  describe(`VolumeTarget conformance: ${name}`, () => {
    it('restores a volume from concurrent, out-of-order writes and zeroed holes, published by commit', () =>
      withTarget(size, async ({ target, readBack }) => {
        expect(target.location.length).toBeGreaterThan(0);
        await target.open(size);
        await restoreInto(target, content);
        if (!options.writesInPlace) expect(await readBack(size), 'published before commit').toBeUndefined();
        await target.commit();
        const restored = await readBack(size);
        expect(restored?.length).toBe(size);
        expect(sha256Hex(restored!)).toBe(sha256Hex(content));
        // Abort after commit changes nothing: the restore is done.
        await target.abort();
        expect(sha256Hex((await readBack(size))!)).toBe(sha256Hex(content));
      }));

    it('restores an empty volume', () =>
      withTarget(0, async ({ target, readBack }) => {
        await target.open(0);
        await target.commit();
        expect((await readBack(0))?.length).toBe(0);
      }));

    if (options.writesInPlace) {
      it('aborts idempotently and takes no writes after an abort', () =>
        withTarget(size, async ({ target, readBack }) => {
          const before = (await readBack(size))!;
          await target.open(size);
          await target.write(0, content.subarray(0, 64 * KiB));
          await target.abort();
          await target.abort();
          await expect(target.write(64 * KiB, content.subarray(64 * KiB, 128 * KiB))).rejects.toBeInstanceOf(PermanentError);
          await expect(target.commit()).rejects.toBeInstanceOf(PermanentError);
          // What the aborted write left is the target's business; the refused one never landed.
          const after = (await readBack(size))!;
          expect(sha256Hex(after.subarray(64 * KiB))).toBe(sha256Hex(before.subarray(64 * KiB)));
        }));
    } else {
      it('publishes nothing when aborted, aborts idempotently and takes no writes after an abort', () =>
        withTarget(size, async ({ target, readBack }) => {
          await target.open(size);
          await target.write(0, content.subarray(0, MiB));
          await target.zero(MiB, 128 * KiB);
          await target.abort();
          expect(await readBack(size)).toBeUndefined();
          await target.abort();
          await expect(target.write(MiB + 128 * KiB, content.subarray(0, 4 * KiB))).rejects.toBeInstanceOf(PermanentError);
          await expect(target.commit()).rejects.toBeInstanceOf(PermanentError);
          expect(await readBack(size)).toBeUndefined();
        }));
    }

    it('aborts safely before open, and cannot be opened after', () =>
      withTarget(size, async ({ target, readBack }) => {
        await target.abort();
        await target.abort();
        await expect(target.open(size)).rejects.toBeInstanceOf(PermanentError);
        if (!options.writesInPlace) expect(await readBack(size)).toBeUndefined();
      }));

    it('aborts safely after a refused open', () =>
      withTarget(size, async ({ target, readBack }) => {
        await expect(target.open(-1)).rejects.toBeInstanceOf(InvalidInputError);
        await expect(target.open(0.5)).rejects.toBeInstanceOf(InvalidInputError);
        await target.abort();
        await expect(target.write(0, content.subarray(0, 512))).rejects.toBeInstanceOf(PermanentError);
        if (!options.writesInPlace) expect(await readBack(size)).toBeUndefined();
      }));

    it('refuses calls out of order: before open, a second open, after commit', () =>
      withTarget(size, async ({ target, readBack }) => {
        await expect(target.write(0, content.subarray(0, 512))).rejects.toBeInstanceOf(PermanentError);
        await expect(target.zero(0, 512)).rejects.toBeInstanceOf(PermanentError);
        await target.open(size);
        await expect(target.open(size)).rejects.toBeInstanceOf(PermanentError);
        await restoreInto(target, content);
        await target.commit();
        await expect(target.write(0, seededBytes(512, 7))).rejects.toBeInstanceOf(PermanentError);
        await expect(target.zero(0, 512)).rejects.toBeInstanceOf(PermanentError);
        await expect(target.commit()).rejects.toBeInstanceOf(PermanentError);
        expect(sha256Hex((await readBack(size))!)).toBe(sha256Hex(content));
      }));

    it('rejects ranges outside the volume, naming the field, and goes on working', () =>
      withTarget(size, async ({ target, readBack }) => {
        await target.open(size);
        const outside = [
          () => target.write(size - 100, content.subarray(0, 200)),
          () => target.write(-512, content.subarray(0, 512)),
          () => target.write(0.5, content.subarray(0, 512)),
          () => target.zero(size, 1),
          () => target.zero(0, size + 1),
          () => target.zero(-1, 1),
        ];
        for (const call of outside) {
          const err: unknown = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(InvalidInputError);
          expect((err as InvalidInputError).field).toBeTruthy();
        }
        await restoreInto(target, content);
        await target.commit();
        expect(sha256Hex((await readBack(size))!)).toBe(sha256Hex(content));
      }));

    if (options.fixedCapacity) {
      it('refuses a volume larger than the destination holds', () =>
        withTarget(size, async ({ target }) => {
          await expect(target.open(size + 512)).rejects.toBeInstanceOf(InvalidInputError);
        }));
    }
  });
}
