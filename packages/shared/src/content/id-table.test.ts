import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { IdTable } from './id-table.js';

describe('IdTable', () => {
  it('finds every inserted id across growth, and nothing else', () => {
    const t = new IdTable();
    const ids = randomBytes(50_000 * 32);
    for (let i = 0; i < 50_000; i++) expect(t.insert(ids, i * 32)).toEqual({ entry: i, added: true });
    expect(t.count).toBe(50_000);
    for (let i = 0; i < 50_000; i += 997) {
      expect(t.find(ids, i * 32)).toBe(i);
      expect(Buffer.from(t.id(i)).equals(ids.subarray(i * 32, i * 32 + 32))).toBe(true);
    }
    expect(t.insert(ids, 64)).toEqual({ entry: 2, added: false });
    const other = randomBytes(32 * 100);
    for (let i = 0; i < 100; i++) expect(t.find(other, i * 32)).toBe(-1);
  });

  it('adds without an answer object: true once per id, and the id is stored, not viewed', () => {
    const t = new IdTable();
    const ids = randomBytes(3000 * 32);
    for (let i = 0; i < 3000; i++) expect(t.add(ids, i * 32)).toBe(true);
    for (let i = 0; i < 3000; i += 3) expect(t.add(ids, i * 32)).toBe(false);
    expect(t.count).toBe(3000);
    const kept = Buffer.from(ids.subarray(32 * 10, 32 * 11));
    ids.fill(0, 32 * 10, 32 * 11);
    expect(Buffer.from(t.id(10)).equals(kept)).toBe(true);
    expect(t.find(kept, 0)).toBe(10);
  });

  it('tells apart ids that share their first bytes', () => {
    const t = new IdTable();
    const a = Buffer.alloc(32, 7);
    const b = Buffer.alloc(32, 7);
    b[31] = 8;
    t.insert(a, 0);
    expect(t.find(b, 0)).toBe(-1);
    expect(t.insert(b, 0).added).toBe(true);
    expect(t.find(b, 0)).toBe(1);
  });

  it('keeps only a prefix when asked, and a presized table never replaces its arrays', () => {
    const t = new IdTable({ keyBytes: 16, presize: 5000 });
    const ids = randomBytes(5000 * 32);
    t.insert(ids, 0);
    const first = t.id(0);
    expect(first.byteLength).toBe(16);
    for (let i = 1; i < 5000; i++) expect(t.insert(ids, i * 32).added).toBe(true);
    // Still a view of the same store: it never grew (nothing outgrown left to collect).
    expect(t.id(0).buffer).toBe(first.buffer);
    for (let i = 0; i < 5000; i += 7) expect(t.find(ids, i * 32)).toBe(i);
    // Ids are told apart by their first 16 bytes only.
    const samePrefix = Buffer.from(ids.subarray(32, 64));
    samePrefix[20]! ^= 0xff;
    expect(t.find(samePrefix, 0)).toBe(1);
    const otherPrefix = Buffer.from(ids.subarray(32, 64));
    otherPrefix[15]! ^= 0xff;
    expect(t.find(otherPrefix, 0)).toBe(-1);
    expect(() => new IdTable({ keyBytes: 33 })).toThrow(/keyBytes/);
  });
});
