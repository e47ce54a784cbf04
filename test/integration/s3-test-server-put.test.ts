/**
 * The S3 test server stores a PUT only once its whole body has arrived, as S3 does
 * (test/setup/s3rver-process.mjs): the kill tests rely on it, since a writer killed mid-upload
 * must leave no object behind, not a truncated one that lists and reads as if whole.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTestBucket } from '../setup/s3.js';

/** Sends the headers and `sent` bytes of a body declared `length` long, then drops the connection. */
async function abandonedPut(url: string, body: Buffer, sent: number): Promise<void> {
  const req = request(url, { method: 'PUT', headers: { 'content-length': String(body.length) } });
  req.on('error', () => undefined); // the reset below is the point
  req.write(body.subarray(0, sent));
  // Wait until the server has the part sent, so the drop lands mid-body rather than before it.
  await sleep(300);
  const closed = new Promise((resolve) => req.on('close', resolve));
  req.destroy();
  await closed;
}

describe('the S3 test server', () => {
  it('keeps no object whose upload was cut off, and keeps a complete one', async () => {
    const { endpoint, bucket } = await createTestBucket();
    const body = randomBytes(4 << 20);
    await abandonedPut(`${endpoint}/${bucket}/cut`, body, 1 << 20);
    await sleep(300); // the server sees the reset and cleans up

    const cut = await fetch(`${endpoint}/${bucket}/cut`);
    expect(cut.status).toBe(404);
    const listing = await (await fetch(`${endpoint}/${bucket}?list-type=2`)).text();
    expect(listing).not.toContain('<Key>cut');

    const whole = await fetch(`${endpoint}/${bucket}/whole`, { method: 'PUT', body });
    expect(whole.status).toBe(200);
    const back = Buffer.from(await (await fetch(`${endpoint}/${bucket}/whole`)).arrayBuffer());
    expect(back.equals(body)).toBe(true);
    expect(await (await fetch(`${endpoint}/${bucket}?list-type=2`)).text()).toContain('<Key>whole</Key>');
  });
});
