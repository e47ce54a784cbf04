import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '@snapfleet/shared';
import type { Alert } from '@snapfleet/shared/jobs';
import { sendAlert, slackBody } from './http-alert-sender.js';

const alert: Alert = {
  event: 'rpo-breached',
  at: '2026-12-05T12:00:00.000Z',
  summary: 'daily/vol-1: no recovery point, RPO 25h',
  policy: 'daily',
  volumeId: 'vol-1',
  details: { state: 'never', rpoSeconds: 90000 },
};
let server: Server;
let base: string;
const got: { path: string; type?: string; body: unknown }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      got.push({ path: req.url ?? '', ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}), body: JSON.parse(text) });
      const status = Number(/\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
      res.writeHead(status).end('answer');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

describe('sendAlert', () => {
  it('posts the alert as JSON to a webhook, and Slack text to a Slack target', async () => {
    await sendAlert({ name: 'ops', kind: 'webhook', url: `${base}/hook` }, alert, 'prod');
    await sendAlert({ name: 'chat', kind: 'slack', url: `${base}/slack` }, alert, 'prod');
    expect(got.at(-2)).toEqual({ path: '/hook', type: 'application/json', body: { source: 'snapfleet', fleet: 'prod', ...alert } });
    expect(got.at(-1)).toEqual({ path: '/slack', type: 'application/json', body: slackBody(alert, 'prod') });
    expect(slackBody(alert, 'prod').text).toBe('[prod] RPO breached: daily/vol-1\ndaily/vol-1: no recovery point, RPO 25h\nstate: never\nrpoSeconds: 90000');
  });

  it('retries on 429 and 5xx, gives up on other 4xx, and never names the URL', async () => {
    const secret = 'T0SECRET/B0SECRET';
    for (const [status, kind] of [
      [500, TransientError],
      [503, TransientError],
      [429, TransientError],
      [404, PermanentError],
      [400, PermanentError],
    ] as const) {
      const err = await sendAlert({ name: 'ops', kind: 'webhook', url: `${base}/status/${status}/${secret}` }, alert, 'prod').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(kind);
      expect((err as Error).message).toBe(`alert target ops: HTTP ${status}`);
    }
    // A port that was just free and closed again: the connection is refused.
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await new Promise((r) => closed.once('listening', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await sendAlert({ name: 'ops', kind: 'webhook', url: `http://127.0.0.1:${port}/${secret}` }, alert, 'prod').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransientError);
    expect((refused as Error).message).toBe('alert target ops: request failed (ECONNREFUSED)');
  });
});
