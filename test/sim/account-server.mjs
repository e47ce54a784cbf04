#!/usr/bin/env node
/**
 * The simulated AWS account: one process serving the EC2 Query API and the EBS direct APIs over
 * HTTP on a loopback port, backed by a fake AWS world directory (test/support/aws-world), so that
 * `snapfleet` processes with the real SDK clients (AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL_EBS, or
 * the config's provider.endpoints, pointed here) go through the SDK's whole stack and share one
 * account's quotas. Requests are decoded and answers encoded from the SDK's own schemas; the
 * account's behaviour under load (latency, token-bucket quotas, slow snapshots, 5xx, timeouts) is
 * set by account-behaviour.mjs from the settings (sim-settings.mjs), and counted by sim-stats.mjs.
 *
 *   node test/sim/account-server.mjs --world DIR [--settings FILE] [--port 0] [--stats-out FILE]
 *
 * Prints `listening <url>` once it listens. GET /__sim/stats answers the stats as JSON; SIGTERM
 * or SIGINT writes them a last time (to --stats-out, else stdout) and exits.
 */
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { clearTimeout, setTimeout } from 'node:timers';
import { pathToFileURL, URL, URLSearchParams } from 'node:url';
import { parseArgs } from 'node:util';
import { worldApi } from '../support/aws-world/world-api.mjs';
import { World, WorldError } from '../support/aws-world/world-files.mjs';
import { createAccountBehaviour, familyOf } from './account-behaviour.mjs';
import { decodeEbsRequest, ebsErrorStatus, ebsRoutes, encodeEbsError, encodeEbsResponse, matchEbsRoute } from './ebs-rest-codec.mjs';
import { decodeEc2Request, ec2ErrorStatus, encodeEc2Error, encodeEc2Response } from './ec2-query-codec.mjs';
import { resolveSimSettings } from './sim-settings.mjs';
import { SimStats } from './sim-stats.mjs';

/** The SDK keeps connections alive; closing idle ones sooner than it expects makes it race resets. */
const KEEP_ALIVE_MS = 60_000;

/** The region of a SigV4-signed request: the credential scope names it. */
function regionOf(authorization) {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? '')?.[1];
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function send(res, status, headers, body) {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-length': body.byteLength });
  res.end(body);
}

/** An HTTP server over the world at `worldDir` (not yet listening), and its stats. */
export function createAccountServer({ worldDir, settings: overrides = {}, random = Math.random }) {
  const settings = resolveSimSettings(overrides);
  const api = worldApi(new World(worldDir, settings.world));
  const behaviour = createAccountBehaviour(settings, random);
  const stats = new SimStats(settings);
  const routes = ebsRoutes(api.apis('ebs'));
  const ec2Apis = new Set(api.apis('ec2'));

  /** Runs one call through the account's verdict; `answer` and `fail` write the protocol's replies. */
  async function serve(res, service, name, input, region, answer, fail) {
    const verdict = behaviour.admit(service, name, input, region);
    if (verdict.kind === 'hold') {
      stats.timeout(name);
      const timer = setTimeout(() => res.destroy(), settings.faults.timeoutHoldMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (verdict.kind === 'throttle') {
      await sleep(behaviour.latencyMs('throttled'));
      stats.throttled(name, verdict.reason ? `${verdict.name}/${verdict.reason}` : verdict.name);
      return fail(verdict.name, verdict.message, verdict.reason);
    }
    await sleep(behaviour.latencyMs(familyOf(service, name)));
    if (verdict.kind === 'error') {
      stats.error(name);
      return fail(service === 'ec2' ? 'InternalError' : 'InternalServerException', 'An internal error has occurred. Please try again.');
    }
    let out;
    try {
      out = await api.call(service, name, input, region);
    } catch (err) {
      if (!(err instanceof WorldError)) throw err;
      stats.failed(name);
      return fail(err.code, err.message, err.reason);
    }
    stats.served(name);
    return answer(out);
  }

  async function ec2(req, res, region, requestId) {
    const fail = (code, message) =>
      send(res, ec2ErrorStatus(code), { 'content-type': 'text/xml;charset=UTF-8' }, Buffer.from(encodeEc2Error(code, message, requestId)));
    const text = req.body.toString('utf8');
    const action = new URLSearchParams(text).get('Action');
    if (!action || !ec2Apis.has(action)) return fail('InvalidAction', `The action ${action} is not valid for this web service.`);
    const { input } = decodeEc2Request(text);
    const answer = (out) => send(res, 200, { 'content-type': 'text/xml;charset=UTF-8' }, Buffer.from(encodeEc2Response(action, out, requestId)));
    return serve(res, 'ec2', action, input, region, answer, fail);
  }

  async function ebs(req, res, url, region, requestId) {
    const fail = (name, message, reason) =>
      send(
        res,
        ebsErrorStatus(name),
        { 'content-type': 'application/json', 'x-amzn-errortype': name, 'x-amzn-requestid': requestId },
        encodeEbsError(message, reason),
      );
    const match = matchEbsRoute(routes, req.method, url.pathname);
    if (!match) return fail('UnknownOperationException', `No EBS operation at ${req.method} ${url.pathname}`);
    const input = decodeEbsRequest(match, url, req.headers, req.body);
    const answer = async (out) => {
      const r = await encodeEbsResponse(match.route, out);
      send(res, r.status, { ...r.headers, 'x-amzn-requestid': requestId }, r.body);
    };
    return serve(res, 'ebs', match.route.api, input, region, answer, fail);
  }

  async function handle(req, res) {
    const requestId = randomUUID();
    try {
      const url = new URL(req.url ?? '/', 'http://sim');
      if (req.method === 'GET' && url.pathname === '/__sim/stats') {
        return send(res, 200, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(stats.snapshot())));
      }
      req.body = await readBody(req);
      const region = regionOf(req.headers.authorization) ?? 'us-east-1';
      if (req.method === 'POST' && url.pathname === '/') return await ec2(req, res, region, requestId);
      return await ebs(req, res, url, region, requestId);
    } catch (err) {
      // A bug of the server, not an injected fault: say so loudly, in the answer and on stderr.
      process.stderr.write(`account-server: ${req.method} ${req.url}: ${err?.stack ?? err}\n`);
      send(res, 500, { 'content-type': 'text/plain' }, Buffer.from(`account-server bug: ${err?.message ?? err}`));
    }
  }

  // Node drops a request listener's promise: answering a bug can itself throw (the headers went
  // out already), and that must cut the one connection, not kill the account as an unhandled rejection.
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      process.stderr.write(`account-server: ${req.method} ${req.url}: could not answer: ${err?.stack ?? err}\n`);
      res.destroy();
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  return { server, stats, settings };
}

function readSettings(file) {
  return file ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
}

async function main() {
  const { values } = parseArgs({
    options: {
      world: { type: 'string' },
      settings: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'stats-out': { type: 'string' },
    },
  });
  if (!values.world) throw new Error('usage: account-server.mjs --world DIR [--settings FILE] [--port N] [--stats-out FILE]');
  const { server, stats } = createAccountServer({ worldDir: values.world, settings: readSettings(values.settings) });
  await new Promise((resolve) => server.listen(Number(values.port), values.host, resolve));
  const { port } = server.address();
  process.stdout.write(`listening http://${values.host}:${port}\n`);
  const stop = () => {
    const text = JSON.stringify(stats.snapshot());
    if (values['stats-out']) fs.writeFileSync(values['stats-out'], text);
    else process.stdout.write(text + '\n');
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`account-server: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
