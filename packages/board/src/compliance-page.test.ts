import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessCompliance, summarizeCompliance, type CompliancePolicy, type VolumeRecord } from '@snapfleet/shared/compliance';
import { createCompliancePage, PAGE_ROWS } from './compliance-page.js';

const H = 3_600_000;
const now = new Date('2026-12-05T12:00:00Z');
const ago = (h: number) => new Date(now.getTime() - h * H).toISOString();
const many = Array.from({ length: PAGE_ROWS + 20 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
const policies: CompliancePolicy[] = [
  { name: 'daily', rpoMs: 25 * H, volumes: ['vol-a', 'vol-<b>'] },
  { name: 'bulk', rpoMs: 25 * H, volumes: many },
];
const records: VolumeRecord[] = [
  { policy: 'daily', volumeId: 'vol-a', lastArchive: { time: ago(1), id: 'a'.repeat(64) } },
  {
    policy: 'daily',
    volumeId: 'vol-<b>',
    lastArchive: { time: ago(40), id: 'b'.repeat(64) },
    lastError: { queue: 'archive', message: 'disk <gone> & "away"', at: ago(1) },
  },
  ...many.map((v) => ({ policy: 'bulk', volumeId: v, lastArchive: { time: ago(2) } })),
];
const volumes = assessCompliance(policies, records, now);
const data = { policies: summarizeCompliance(policies, volumes), volumes };

let server: Server;
let base: string;
beforeAll(async () => {
  const app = express();
  app.use(
    '/compliance',
    createCompliancePage(async () => data, { connection: {} as Redis, prefix: 'p' }, 'RPO compliance: test'),
  );
  server = createServer(app).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/compliance/`;
});
afterAll(() => {
  server.close();
});

const page = async (query = '') => (await fetch(`${base}${query}`)).text();
const volumeOrder = (html: string) => [...html.matchAll(/<tr class="state-[a-z]+"><td>[^<]+<\/td><td>([^<]+)<\/td>/g)].map((m) => m[1]!);

describe('the compliance page', () => {
  it('lists the worst first, escapes what it shows, and pages long lists', async () => {
    const html = await page();
    expect(volumeOrder(html)[0]).toBe('vol-&lt;b&gt;');
    expect(html).toContain('disk &lt;gone&gt; &amp; &quot;away&quot;');
    expect(html).not.toContain('<gone>');
    expect(volumeOrder(html)).toHaveLength(PAGE_ROWS);
    expect(html).toContain(`page 1 of 2`);
    expect(volumeOrder(await page('?page=2'))).toHaveLength(22);
  });

  it('sorts by a column and filters by policy and state', async () => {
    expect(volumeOrder(await page('?sort=volume&order=desc&policy=daily'))).toEqual(['vol-a', 'vol-&lt;b&gt;'].sort().reverse());
    expect(volumeOrder(await page('?sort=age&policy=daily'))).toEqual(['vol-a', 'vol-&lt;b&gt;']);
    expect(volumeOrder(await page('?state=breached'))).toEqual(['vol-&lt;b&gt;']);
    // An unknown sort falls back to worst first.
    expect(volumeOrder(await page('?sort=nonsense&policy=daily'))[0]).toBe('vol-&lt;b&gt;');
  });

  it('serves the same as JSON', async () => {
    const json = (await (await fetch(`${base}data.json`)).json()) as typeof data;
    expect(json.policies.find((p) => p.policy === 'daily')).toMatchObject({ volumes: 2, breached: 1 });
    expect(json.volumes).toHaveLength(PAGE_ROWS + 22);
  });
});
