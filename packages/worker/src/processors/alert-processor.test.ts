/**
 * The alert queue's processor called directly: `check` against real Redis (the compliance
 * records and alert states under this file's own prefix, removed afterwards) with an outbox that
 * records what it is given, and `deliver` with the sender replaced. The clock is the test's.
 */
import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from '@snapfleet/shared';
import { fleetConfigSchema, type FleetConfig } from '@snapfleet/shared/config';
import { alertStateKey, repositoryLockKey, silentLogger, type Alert } from '@snapfleet/shared/jobs';
import { createComplianceRecorder, type sendAlert } from '@snapfleet/providers/fleet';
import { createLockService } from '../stage-lock.js';
import type { AlertOutbox } from '../alerts/alert-outbox.js';
import { createAlertProcessor, type AlertDeps } from './alert-processor.js';

const HOUR = 3_600_000;
const prefix = `sf-test-alert-proc-${process.pid}-${randomBytes(3).toString('hex')}`;
let nowMs = Date.parse('2024-03-10T12:00:00Z');
const clock = { now: () => new Date(nowMs) };

const config: FleetConfig = fleetConfigSchema.parse({
  repositories: { main: { url: '/not-used' } },
  policies: [{ name: 'p', schedules: [{ every: '1d' }], repository: 'main' }],
  alerts: {
    targets: [
      { name: 'ops', kind: 'webhook', url: 'https://alerts.example/hook' },
      { name: 'chat', kind: 'slack', urlEnv: 'CHAT_URL' },
    ],
    quietPeriod: '0s',
  },
});

const job = (name: string, data: unknown = {}) => ({ id: `${name}-1`, name, data, opts: {} }) as unknown as Job;
const alert: Alert = { event: 'job-failed', at: '2024-03-10T12:00:00.000Z', summary: 'archive of p/v failed', policy: 'p', volumeId: 'v', details: {} };

describe('alert processor', () => {
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const recorder = createComplianceRecorder(redis, prefix);
  const sent: Alert[] = [];
  const outbox: AlertOutbox = { send: async (a) => (sent.push(a), 1) };
  const delivered: { target: { name: string; kind: string; url: string }; alert: Alert }[] = [];
  const send: typeof sendAlert = async (target, a) => void delivered.push({ target, alert: a });
  const depsOf = (over: Partial<AlertDeps> = {}): AlertDeps => ({
    config,
    redis,
    prefix,
    clock,
    log: silentLogger,
    locks: createLockService(redis),
    outbox,
    env: { CHAT_URL: 'https://chat.example/in' },
    send,
    ...over,
  });

  beforeEach(() => {
    sent.length = 0;
    delivered.length = 0;
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('alerts a breach once, then its recovery once, and keeps the state between checks', async () => {
    const run = createAlertProcessor(depsOf());
    // Covered for three days and never archived: past a daily schedule's RPO.
    await recorder.discovered('p', ['v'], new Date(nowMs - 72 * HOUR));
    expect(await run(job('check'))).toEqual({ volumes: 1, sent: 1 });
    expect(sent.map((a) => [a.event, a.policy, a.volumeId])).toEqual([['rpo-breached', 'p', 'v']]);
    expect(sent[0]!.summary).toMatch(/^p\/v: no recovery point/);
    expect(JSON.parse((await redis.hget(alertStateKey(prefix), JSON.stringify(['p', 'v'])))!)).toMatchObject({ state: 'breached', alerted: true });

    nowMs += 60_000;
    expect(await run(job('check'))).toEqual({ volumes: 1, sent: 0 });

    await recorder.archived('p', 'v', { time: new Date(nowMs - HOUR).toISOString(), id: 'snap-1', repository: 'main' });
    nowMs += 60_000;
    expect(await run(job('check'))).toEqual({ volumes: 1, sent: 1 });
    expect(sent.map((a) => a.event)).toEqual(['rpo-breached', 'rpo-recovered']);
    expect(sent[1]!.details).toMatchObject({ state: 'ok', recoveryPoint: new Date(nowMs - 60_000 - HOUR).toISOString() });
  });

  it('skips a check while another holds the fleet-wide check lock, or when no alerts are configured', async () => {
    const locks = createLockService(redis);
    const other = await locks.tryAcquire(repositoryLockKey(prefix, 'alert-check', 'fleet'), 60_000);
    try {
      expect(await createAlertProcessor(depsOf())(job('check'))).toEqual({ skipped: 'another check is running' });
    } finally {
      await other!.release();
    }
    const { alerts: _none, ...withoutAlerts } = config;
    expect(await createAlertProcessor(depsOf({ config: withoutAlerts }))(job('check'))).toEqual({ skipped: 'no alerts configured' });
    expect(sent).toEqual([]);
  });

  it('delivers an alert to its target, by URL or by the environment variable named', async () => {
    const run = createAlertProcessor(depsOf());
    expect(await run(job('deliver', { v: 1, target: 'ops', alert }))).toEqual({ target: 'ops', event: 'job-failed' });
    expect(await run(job('deliver', { v: 1, target: 'chat', alert }))).toEqual({ target: 'chat', event: 'job-failed' });
    expect(delivered).toEqual([
      { target: { name: 'ops', kind: 'webhook', url: 'https://alerts.example/hook' }, alert },
      { target: { name: 'chat', kind: 'slack', url: 'https://chat.example/in' }, alert },
    ]);
  });

  it('fails for good on an unknown target, an unset URL variable or an unknown job, and lets a failed send be retried', async () => {
    const run = createAlertProcessor(depsOf({ env: {} }));
    await expect(run(job('deliver', { v: 1, target: 'gone', alert }))).rejects.toThrow(/alert target gone is not in this worker's configuration/);
    await expect(run(job('deliver', { v: 1, target: 'chat', alert }))).rejects.toThrow(/environment variable CHAT_URL is not set/);
    await expect(run(job('shout'))).rejects.toBeInstanceOf(PermanentError);
    const refused = new Error('connect ECONNREFUSED');
    const failing = createAlertProcessor(depsOf({ send: async () => Promise.reject(refused) }));
    // Not an engine error: the queue retries it with backoff.
    await expect(failing(job('deliver', { v: 1, target: 'ops', alert }))).rejects.toBe(refused);
    expect(delivered).toEqual([]);
  });
});
