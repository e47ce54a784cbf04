/**
 * The S3 test server lists as S3 does (test/setup/s3rver-process.mjs replaces s3rver's listing,
 * which stats every folder of the bucket on the way): keys in byte order across folders, pages
 * of 1,000 with continuation, start-after, delimiters, and no trace of deleted objects.
 */
import { describe, expect, it } from 'vitest';
import { mapLimit } from '@snapfleet/shared/testing';
import { createTestBucket } from '../setup/s3.js';

interface Page {
  keys: string[];
  commonPrefixes: string[];
  next?: string;
}

/** One ListObjectsV2 page; s3rver takes unsigned requests. */
async function listPage(base: string, params: Record<string, string>): Promise<Page> {
  const response = await fetch(`${base}?${new URLSearchParams({ 'list-type': '2', ...params }).toString()}`);
  const xml = await response.text();
  expect(response.status, xml).toBe(200);
  const all = (tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]!);
  const truncated = all('IsTruncated')[0] === 'true';
  return {
    keys: all('Key'),
    commonPrefixes: [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) => m[1]!),
    ...(truncated ? { next: all('NextContinuationToken')[0]! } : {}),
  };
}

/** Every key of a listing, following continuation tokens; also how many pages it took. */
async function listAll(base: string, params: Record<string, string>): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const page = await listPage(base, { ...params, ...(token ? { 'continuation-token': token } : {}) });
    keys.push(...page.keys);
    pages++;
    token = page.next;
  } while (token);
  return { keys, pages };
}

const byteOrder = (keys: string[]) => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('the S3 test server lists', () => {
  it('keys in byte order across folders, in pages, after start-after, rolled up by a delimiter, without deleted ones', async () => {
    const { endpoint, bucket } = await createTestBucket();
    const base = `${endpoint}/${bucket}`;
    const index = Array.from({ length: 1205 }, (_, i) => `index/${(i * 7919).toString(16).padStart(8, '0')}`);
    // '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f): a folder's keys come after such names.
    const named = ['a/1', 'a/2', 'a.b', 'a-c', 'ab/x', 'b/deep/1', 'top'];
    await mapLimit([...named, ...index], 16, async (key) => {
      const put = await fetch(`${base}/${key}`, { method: 'PUT', body: key });
      expect(put.status).toBe(200);
    });

    expect((await listPage(base, { prefix: 'a' })).keys).toEqual(['a-c', 'a.b', 'a/1', 'a/2', 'ab/x']);

    const paged = await listAll(base, { prefix: 'index/' });
    expect(paged.pages).toBe(2);
    expect(paged.keys).toEqual(byteOrder(index));

    const after = await listAll(base, { prefix: 'index/', 'start-after': byteOrder(index)[1199]! });
    expect(after.keys).toEqual(byteOrder(index).slice(1200));

    const top = await listPage(base, { delimiter: '/' });
    expect(top.keys).toEqual(['a-c', 'a.b', 'top']);
    expect(top.commonPrefixes).toEqual(['a/', 'ab/', 'b/', 'index/']);

    // The deleted key's folders stay on disk (s3rver-process.mjs leaves empty folders): they must not list.
    expect((await fetch(`${base}/b/deep/1`, { method: 'DELETE' })).status).toBe(204);
    expect((await listPage(base, { prefix: 'b/' })).keys).toEqual([]);
    expect((await listPage(base, { delimiter: '/' })).commonPrefixes).toEqual(['a/', 'ab/', 'index/']);
    expect((await listAll(base, {})).keys).toEqual(byteOrder([...named.filter((k) => k !== 'b/deep/1'), ...index]));
  });
});
