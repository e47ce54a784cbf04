/**
 * A fault-injecting HTTP proxy for the test S3 server: clients (the S3 store, the CLI through
 * AWS_ENDPOINT_URL_S3) talk to the proxy, the proxy forwards to s3rver and, decided per request
 * by a seeded PRNG at configurable rates, answers with what a real S3 endpoint sometimes does:
 *
 * - `slow-down`: 503 with an S3 `SlowDown` XML error body;
 * - `internal-error`: 500 with an S3 `InternalError` XML error body;
 * - `reset`: the connection is reset in the middle of the response body (before the headers when
 *   the response has no body);
 * - `truncate`: Content-Length announces N bytes, fewer are sent, then the connection closes;
 * - `slow`: the response is held back for `slowMs`, then passed on intact.
 *
 * 503 and 500 are injected either before forwarding (the server never sees the request) or after
 * (the server applied a PUT or DELETE, the client is told it failed): the second is the ambiguous
 * case a client must survive by retrying idempotent requests. Resets and truncations always come
 * after forwarding. Request headers, SigV4 signature included, are passed through unchanged, so
 * the server checks the same signature the client computed for the proxy's address.
 *
 * It lives here rather than in test/ so that the packages' own tests (whose tsconfig rootDir is
 * src/) can put it in front of a store too. Whole bodies are buffered: test objects are a few MiB.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type FaultKind = 'slow-down' | 'internal-error' | 'reset' | 'truncate' | 'slow';

export const FAULT_KINDS: readonly FaultKind[] = ['slow-down', 'internal-error', 'reset', 'truncate', 'slow'];

/** Probability per request of each fault kind; their sum must be at most 1. Missing kinds are 0. */
export type FaultRates = Partial<Record<FaultKind, number>>;

export interface FaultProxyOptions {
  /** Base URL of the server to forward to (the run's s3rver endpoint). */
  target: string;
  /** Seeds the PRNG that picks the faults: the same seed gives the same sequence of decisions. */
  seed: number;
  /** @defaultValue no faults */
  rates?: FaultRates;
  /** How long a `slow` response is held back. @defaultValue 300 */
  slowMs?: number;
  /** Share of 503/500 faults injected after the server handled the request. @defaultValue 0.5 */
  afterForwardShare?: number;
  /**
   * Only requests this accepts are faulted, e.g. `(r) => r.method !== 'GET'` for writes only or
   * `(r) => r.url.includes('uploadId=')` for multipart parts and completions. @defaultValue all
   */
  only?: (request: { method: string; url: string }) => boolean;
}

export interface FaultProxyStats {
  /** Requests the proxy received, faulted or not. */
  requests: number;
  /** Requests the proxy received, by HTTP method. */
  byMethod: Record<string, number>;
  /** Requests passed on to the server (every request but the 503/500 injected before forwarding). */
  forwarded: number;
  /** Faults injected, by kind. */
  injected: Record<FaultKind, number>;
  /** 503/500 faults injected after the server had handled the request (applied, but reported failed). */
  afterForward: number;
  /** Resets and truncations that cut a non-empty body after part of it was sent. */
  cutBodies: number;
}

export interface FaultProxy {
  /** The proxy's base URL, to use as the S3 endpoint. */
  readonly endpoint: string;
  readonly stats: FaultProxyStats;
  /** Replaces the fault rates for the requests that arrive from now on. */
  setRates(rates: FaultRates): void;
  /** Total of the injected faults of every kind. */
  totalFaults(): number;
  close(): Promise<void>;
}

/** Headers that describe one hop's connection and must not be passed on (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'expect']);

/** Starts a proxy on 127.0.0.1 on a free port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const random = mulberry32(options.seed);
  let rates = checkedRates(options.rates ?? {});
  const slowMs = options.slowMs ?? 300;
  const afterShare = options.afterForwardShare ?? 0.5;
  const stats: FaultProxyStats = {
    requests: 0,
    byMethod: {},
    forwarded: 0,
    injected: { 'slow-down': 0, 'internal-error': 0, reset: 0, truncate: 0, slow: 0 },
    afterForward: 0,
    cutBodies: 0,
  };
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    stats.requests++;
    stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
    // Decide everything before any await, so the sequence of decisions follows the order of
    // arrival and does not depend on how long bodies take to read.
    const draw = random();
    const kind = options.only === undefined || options.only({ method, url: req.url ?? '/' }) ? pickFault(rates, draw) : undefined;
    const after = random() < afterShare;
    const cutAt = random();
    const body = await readAll(req);
    if (kind === 'slow-down' || kind === 'internal-error') {
      stats.injected[kind]++;
      if (after) {
        stats.afterForward++;
        await forward(target, req, body);
        stats.forwarded++;
      }
      sendS3Error(res, kind, req.url ?? '/');
      return;
    }
    const upstream = await forward(target, req, body);
    stats.forwarded++;
    const headers = passHeaders(upstream.headers);
    // HEAD answers carry the object's Content-Length with no body: never cut or recount those.
    const hasBody = method !== 'HEAD' && upstream.body.length > 0;
    if (hasBody) headers['content-length'] = String(upstream.body.length);
    if (kind === 'slow') {
      stats.injected.slow++;
      await sleep(slowMs);
    }
    if (kind === 'reset' || kind === 'truncate') {
      stats.injected[kind]++;
      if (!hasBody) {
        // Nothing to cut: the client loses the whole answer to a request the server applied.
        res.socket?.resetAndDestroy();
        return;
      }
      stats.cutBodies++;
      // Somewhere strictly inside the body: at least one byte sent, at least one missing.
      const sent = 1 + Math.floor(cutAt * (upstream.body.length - 1));
      res.writeHead(upstream.status, headers);
      res.write(upstream.body.subarray(0, sent), () => {
        if (kind === 'reset') res.socket?.resetAndDestroy();
        else res.socket?.end();
      });
      return;
    }
    res.writeHead(upstream.status, headers);
    res.end(method === 'HEAD' ? undefined : upstream.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // The server is unreachable or the client went away: answer 502 if we still can.
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`fault proxy: ${(err as Error).message}`);
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    setRates(next) {
      rates = checkedRates(next);
    },
    totalFaults() {
      return FAULT_KINDS.reduce((sum, k) => sum + stats.injected[k], 0);
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function checkedRates(rates: FaultRates): FaultRates {
  let sum = 0;
  for (const [kind, rate] of Object.entries(rates)) {
    if (!FAULT_KINDS.includes(kind as FaultKind) || !(rate >= 0 && rate <= 1)) throw new Error(`fault proxy: bad rate ${kind}=${rate}`);
    sum += rate;
  }
  if (sum > 1 + 1e-9) throw new Error(`fault proxy: fault rates add up to ${sum}, more than 1`);
  return { ...rates };
}

function pickFault(rates: FaultRates, r: number): FaultKind | undefined {
  let edge = 0;
  for (const kind of FAULT_KINDS) {
    edge += rates[kind] ?? 0;
    if (r < edge) return kind;
  }
  return undefined;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<Upstream> {
  const headers = passHeaders(req.headers);
  // The body was read whole (chunked or not): send it with its length.
  if (body.length > 0 || req.headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: false }, (answer) => {
      readAll(answer).then((data) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: data }), reject);
    });
    out.on('error', reject);
    out.end(body);
  });
}

function passHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function sendS3Error(res: ServerResponse, kind: 'slow-down' | 'internal-error', resource: string): void {
  const [status, code, message] =
    kind === 'slow-down'
      ? [503, 'SlowDown', 'Please reduce your request rate.']
      : [500, 'InternalError', 'We encountered an internal error. Please try again.'];
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>fault-proxy</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(xml)) });
  res.end(xml);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** mulberry32: a small, fast 32-bit PRNG; plenty for picking faults reproducibly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
