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
});
