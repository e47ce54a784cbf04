/**
 * Every fleet process is observable, not only the board: `worker` and `planner` started with
 * `--metrics-listen` serve /metrics (their own series and Node's), /healthz (readiness: Redis
 * answers and the process is not shutting down) and /livez. Against a private redis-server that
 * the test stops: /healthz turns 503 while /livez stays 200, and recovers when Redis is back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../support/cli.js';
import { fleetConfig, makeFleet, spawnFleet, stderrMatch, stopFleet, waitFor, type FleetFixture, type FleetProcess } from '../support/fleet.js';
import { freePort, PrivateRedis } from '../support/fleet-redis.js';

let dir: string;
let fleet: FleetFixture;
let redis: PrivateRedis;
const procs: FleetProcess[] = [];

beforeAll(async () => {
  dir = await makeTempDir('endpoints');
  fleet = await makeFleet(dir, { volumes: 1, sizeMiB: 1, config: (f) => fleetConfig(f) });
  redis = new PrivateRedis(await freePort(), dir);
  await redis.start();
});
afterAll(async () => {
  for (const p of procs) await stopFleet(p, 5_000);
  await redis.stop();
  await removeDir(dir);
});

/** The process writes "snapfleet: metrics at URL/metrics" to stderr once it listens. */
const metricsUrl = (p: FleetProcess) => stderrMatch(p, /snapfleet: metrics at (http:\/\/[^\s]+)\/metrics/, 'the metrics URL');

it('serves /metrics, /healthz and /livez from worker and planner processes', async () => {
  const env = { REDIS_URL: redis.url };
  const worker = spawnFleet(['worker', '--config', fleet.config, '--prefix', 'ep', '--metrics-listen', '127.0.0.1:0'], env);
  const planner = spawnFleet(['planner', '--config', fleet.config, '--prefix', 'ep', '--metrics-listen', '127.0.0.1:0'], env);
  procs.push(worker, planner);
  const found = { worker: metricsUrl(worker), planner: metricsUrl(planner) };
  const urls = { worker: await found.worker, planner: await found.planner };
  for (const [role, url] of Object.entries(urls)) {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(`snapfleet_process_role{role="${role}"} 1`);
    expect(metrics).toMatch(/snapfleet_process_resident_memory_bytes \d+/);
    await expect((await fetch(`${url}/healthz`)).json()).resolves.toEqual({ status: 'ready', role });
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
  }
  expect(await (await fetch(`${urls.worker}/metrics`)).text()).toContain('# TYPE snapfleet_jobs_total counter');

  await redis.stop();
  for (const url of Object.values(urls)) {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(503);
    await expect(res.json()).resolves.toEqual({ status: 'unavailable', reason: 'redis unreachable' });
    expect((await fetch(`${url}/livez`)).status).toBe(200);
  }
  await redis.start();
  for (const url of Object.values(urls)) await waitFor('readiness after Redis is back', async () => (await fetch(`${url}/healthz`)).status === 200, 30_000);
});
