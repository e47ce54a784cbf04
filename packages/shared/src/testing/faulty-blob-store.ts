/**
 * FaultyBlobStore: wraps a BlobStore and injects failures by programmable rules, for fault tests
 * (kopia `blobtesting/faulty.go`): fail the Nth put, fail every put under a prefix, acknowledge a
 * put as failed after it landed (a lost response), or corrupt bytes on the way back from a get.
 */
import { TransientError } from '../errors.js';
import type { BlobData, BlobStore, ByteRange, ObjectInfo, PutOptions } from '../ports/blob-store.js';

export type BlobOp = 'put' | 'get' | 'stat' | 'list' | 'delete';

/**
 * What a rule does when it fires:
 * - `fail`: throw before reaching the inner store (nothing happened);
 * - `fail-after`: run the inner call, then throw (it happened, but the caller was told otherwise);
 * - `corrupt`: gets only; return the bytes with one byte flipped.
 */
export type FaultEffect = 'fail' | 'fail-after' | 'corrupt';

export interface FaultRule {
  op: BlobOp;
  /** Fire only on the nth call (1-based) that matches op and keyPrefix, counted per rule. */
  nth?: number;
  /** Fire only for keys (list: prefixes) that start with this. */
  keyPrefix?: string;
  /** How many times the rule may fire. @defaultValue 1 when `nth` is set, otherwise unlimited */
  times?: number;
  /** @defaultValue 'fail' */
  effect?: FaultEffect;
  /** The error to throw. @defaultValue a TransientError naming the op and key */
  error?: (op: BlobOp, key: string) => Error;
}

interface ActiveRule extends FaultRule {
  matched: number;
  fired: number;
}

export class FaultyBlobStore implements BlobStore {
  readonly location: string;
  private rules: ActiveRule[] = [];
  /** Calls seen per operation, faulted or not. */
  readonly calls: Record<BlobOp, number> = { put: 0, get: 0, stat: 0, list: 0, delete: 0 };
  /** How many faults have been injected so far. */
  injected = 0;

  constructor(
    readonly inner: BlobStore,
    rules: FaultRule[] = [],
  ) {
    this.location = `faulty(${inner.location})`;
    for (const rule of rules) this.addRule(rule);
  }

  addRule(rule: FaultRule): this {
    this.rules.push({ ...rule, matched: 0, fired: 0 });
    return this;
  }

  /** Fails the nth call of `op` (1-based, counted from now). */
  failNth(op: BlobOp, nth: number, error?: FaultRule['error']): this {
    return this.addRule({ op, nth, ...(error ? { error } : {}) });
  }

  /** Fails every put whose key starts with `keyPrefix`, until cleared. */
  failPutsWithPrefix(keyPrefix: string, error?: FaultRule['error']): this {
    return this.addRule({ op: 'put', keyPrefix, ...(error ? { error } : {}) });
  }

  /** Corrupts gets of keys starting with `keyPrefix`. @defaultValue every get, unlimited */
  corruptGets(keyPrefix = '', times?: number): this {
    return this.addRule({ op: 'get', keyPrefix, effect: 'corrupt', ...(times !== undefined ? { times } : {}) });
  }

  clearRules(): void {
    this.rules = [];
  }

  async put(key: string, data: BlobData, options?: PutOptions): Promise<void> {
    const rule = this.trigger('put', key);
    this.failBefore(rule, 'put', key);
    await this.inner.put(key, data, options);
    this.failAfter(rule, 'put', key);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const rule = this.trigger('get', key);
    this.failBefore(rule, 'get', key);
    const data = await this.inner.get(key, range);
    this.failAfter(rule, 'get', key);
    return rule?.effect === 'corrupt' ? corrupt(data) : data;
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const rule = this.trigger('stat', key);
    this.failBefore(rule, 'stat', key);
    const info = await this.inner.stat(key);
    this.failAfter(rule, 'stat', key);
    return info;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const rule = this.trigger('list', prefix);
    this.failBefore(rule, 'list', prefix);
    yield* this.inner.list(prefix);
    this.failAfter(rule, 'list', prefix);
  }

  async delete(key: string): Promise<void> {
    const rule = this.trigger('delete', key);
    this.failBefore(rule, 'delete', key);
    await this.inner.delete(key);
    this.failAfter(rule, 'delete', key);
  }

  /** Counts the call and returns the first rule that fires for it, if any. */
  private trigger(op: BlobOp, key: string): ActiveRule | undefined {
    this.calls[op] += 1;
    for (const rule of this.rules) {
      if (rule.op !== op || !key.startsWith(rule.keyPrefix ?? '')) continue;
      rule.matched += 1;
      const limit = rule.times ?? (rule.nth !== undefined ? 1 : Infinity);
      if (rule.fired >= limit) continue;
      if (rule.nth !== undefined && rule.matched !== rule.nth) continue;
      rule.fired += 1;
      this.injected += 1;
      return rule;
    }
    return undefined;
  }

  private failBefore(rule: ActiveRule | undefined, op: BlobOp, key: string): void {
    if (rule !== undefined && (rule.effect ?? 'fail') === 'fail') throw makeError(rule, op, key);
  }

  private failAfter(rule: ActiveRule | undefined, op: BlobOp, key: string): void {
    if (rule?.effect === 'fail-after') throw makeError(rule, op, key);
  }
}

function makeError(rule: FaultRule, op: BlobOp, key: string): Error {
  return rule.error ? rule.error(op, key) : new TransientError(`injected fault: ${op} ${key}`);
}

/** Flips the middle byte (or appends one to an empty object) so every checksum notices. */
function corrupt(data: Uint8Array): Uint8Array {
  if (data.length === 0) return Uint8Array.of(0);
  const copy = Uint8Array.from(data);
  const middle = copy.length >> 1;
  copy[middle] = (copy[middle] ?? 0) ^ 0xff;
  return copy;
}
