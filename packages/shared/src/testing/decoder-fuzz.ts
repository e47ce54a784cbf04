/**
 * Support for the decoders' fuzz properties (`*.fuzz.test.ts`): every decoder of stored objects
 * and every parser of configuration or job payloads gets random and mutated input, and must return
 * a value or throw one of the engine's typed errors naming what it was decoding. Never a raw
 * TypeError or RangeError, never a hang, never memory in proportion to a length the input claims.
 *
 * The settings come from an env map the test passes in: `pnpm test` runs a fixed seed in bounded
 * time; `FUZZ_RUNS=100000 FUZZ_SEED=<n> npx vitest run fuzz` runs longer (docs/operations.md).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { SnapfleetError } from '../errors.js';

/**
 * Runs per property in `pnpm test`: with about 40 properties, the fuzz suite takes a few seconds
 * on two cores. A failure prints its seed and path, so a longer run's finds can be replayed.
 */
export const DEFAULT_FUZZ_RUNS = 200;
/** Fixed, so `pnpm test` is deterministic; FUZZ_SEED picks another. */
export const DEFAULT_FUZZ_SEED = 0x5f_f1ee7;

export interface FuzzSettings {
  seed: number;
  numRuns: number;
}

/**
 * fast-check parameters from `FUZZ_RUNS` and `FUZZ_SEED`. `scale` shrinks the runs of costly
 * properties (ones that derive keys or parse whole configuration files).
 */
export function fuzzSettings(env: Readonly<Record<string, string | undefined>>, scale = 1): FuzzSettings {
  const runs = Number(env.FUZZ_RUNS ?? DEFAULT_FUZZ_RUNS);
  const seed = Number(env.FUZZ_SEED ?? DEFAULT_FUZZ_SEED);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got ${env.FUZZ_RUNS}`);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${env.FUZZ_SEED}`);
  return { seed, numRuns: Math.max(1, Math.round(runs * scale)) };
}

/** An engine error class a decoder may throw. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EngineErrorClass = abstract new (...args: any[]) => SnapfleetError;

export interface DecoderExpectation {
  /** The typed errors allowed; anything else (TypeError, RangeError, a library's error) fails. */
  errors: readonly EngineErrorClass[];
  /** What every message must name: the object's key, the field, or the kind of object. */
  names: string | RegExp;
  /**
   * Longest one call may take. Generous (other processes share the machine): it catches work in
   * proportion to a claimed count, which takes seconds or never ends, not slow constant factors.
   */
  maxMs?: number;
}

const DEFAULT_MAX_MS = 2_000;

export type Outcome<T> = { value: T; error?: undefined } | { value?: undefined; error: SnapfleetError };

function checkError(err: unknown, expected: DecoderExpectation): SnapfleetError {
  if (!expected.errors.some((cls) => err instanceof cls)) {
    const name = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    expect.fail(`expected one of ${expected.errors.map((c) => c.name).join(', ')}, got ${name}`);
  }
  const error = err as SnapfleetError;
  if (typeof expected.names === 'string') expect(error.message).toContain(expected.names);
  else expect(error.message).toMatch(expected.names);
  return error;
}

/** Calls `decode` on hostile input and checks its outcome as the module comment says. */
export function expectDecoded<T>(decode: () => T, expected: DecoderExpectation): Outcome<T> {
  const started = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { value: decode() };
  } catch (err) {
    outcome = { error: checkError(err, expected) };
  }
  expect(performance.now() - started).toBeLessThan(expected.maxMs ?? DEFAULT_MAX_MS);
  return outcome;
}

export async function expectDecodedAsync<T>(decode: () => Promise<T>, expected: DecoderExpectation): Promise<Outcome<T>> {
  const started = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { value: await decode() };
  } catch (err) {
    outcome = { error: checkError(err, expected) };
  }
  expect(performance.now() - started).toBeLessThan(expected.maxMs ?? DEFAULT_MAX_MS);
  return outcome;
}

/**
 * Runs `fn` and checks that ArrayBuffer memory grew by less than `maxBytes` meanwhile: a decoder
 * that sized a buffer by a length field claiming gigabytes shows up here (or throws a RangeError
 * when the allocation fails). Nothing is collected between the two readings within one call.
 */
export function expectSmallAllocation(fn: () => void, maxBytes = 32 * 1024 * 1024): void {
  const before = process.memoryUsage().arrayBuffers;
  fn();
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(maxBytes);
}

/** Lengths a damaged or hostile length field may claim: just past the data, and far past it. */
export const HUGE_U32 = [0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 0x0100_0000] as const;

/**
 * Bytes derived from `valid` by the damage storage and transfer cause, or a hostile writer
 * chooses: flipped bytes, a cut end, appended garbage, a u32 somewhere set huge, a cut start.
 */
export function mutationsOf(valid: Uint8Array): fc.Arbitrary<Buffer> {
  const len = valid.byteLength;
  const copy = () => Buffer.from(valid);
  const flips = fc.array(fc.record({ at: fc.nat(Math.max(0, len - 1)), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 8 }).map((fs) => {
    const b = copy();
    for (const f of fs) if (f.at < len) b[f.at]! ^= f.xor;
    return b;
  });
  const truncated = fc.nat(Math.max(0, len - 1)).map((n) => copy().subarray(0, n));
  const headless = fc.integer({ min: 1, max: Math.max(1, len) }).map((n) => copy().subarray(n));
  const extended = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => Buffer.concat([valid, extra]));
  const hugeU32 = fc.record({ at: fc.nat(Math.max(0, len - 4)), value: fc.constantFrom(...HUGE_U32, len + 1) }).map(({ at, value }) => {
    const b = copy();
    if (at + 4 <= len) b.writeUInt32LE(value, at);
    return b;
  });
  return fc.oneof(flips, truncated, headless, extended, hugeU32);
}

/** Random bytes, half of them behind `prefix` (a magic number) so decoding gets past it. */
export function randomBytesAfter(prefix: Uint8Array, maxLength = 512): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.uint8Array({ maxLength }).map((b) => Buffer.from(b)),
    fc.uint8Array({ maxLength }).map((b) => Buffer.concat([prefix, b])),
  );
}
