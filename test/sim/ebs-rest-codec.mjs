/**
 * The EBS direct APIs' REST-JSON protocol, server side. Each operation's HTTP binding comes from
 * the SDK's schema (`GET /snapshots/{SnapshotId}/blocks/{BlockIndex}` and its labels, query
 * parameters, headers and payload): a request is matched to its operation and decoded into the
 * command's input object, and the handler's output is encoded back (x-amz-* headers, the block
 * bytes as the body of GetSnapshotBlock, JSON otherwise with timestamps in epoch seconds).
 * Errors carry their name in `x-amzn-ErrorType` and a JSON body with `message` and `Reason`.
 */
import { Buffer } from 'node:buffer';
import { operationOf } from './sdk-schemas.mjs';

/** The EBS direct API operations the server routes, with their compiled URI templates. */
export function ebsRoutes(apis) {
  return apis.map((api) => {
    const op = operationOf('ebs', api);
    const [method, uri, status] = op.http;
    const labels = [];
    const pattern = uri.replace(/\{(\w+)\}/g, (_, name) => {
      labels.push(name);
      return '([^/]+)';
    });
    return { api, method, status, labels, regex: new RegExp(`^${pattern}$`), op };
  });
}

/** The route and path labels of `method` `path`, or undefined. */
export function matchEbsRoute(routes, method, path) {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.regex.exec(path);
    if (m) return { route: r, labels: Object.fromEntries(r.labels.map((name, i) => [name, decodeURIComponent(m[i + 1])])) };
  }
  return undefined;
}

function readScalar(value, schema) {
  if (value === undefined) return undefined;
  if (schema.isNumericSchema()) return Number(value);
  if (schema.isBooleanSchema()) return value === true || value === 'true';
  if (schema.isTimestampSchema()) return new Date(typeof value === 'number' ? value * 1000 : value);
  return value;
}

/** A JSON document member by its schema (lists and structures of scalars). */
function readJson(value, schema) {
  if (value === undefined || value === null) return undefined;
  if (schema.isListSchema()) return value.map((v) => readJson(v, schema.getValueSchema()));
  if (schema.isStructSchema()) {
    const out = {};
    for (const [name, member] of schema.structIterator()) if (value[name] !== undefined) out[name] = readJson(value[name], member);
    return out;
  }
  return readScalar(value, schema);
}

/** The input object of a matched request: labels, query, headers, and the payload or JSON body. */
export function decodeEbsRequest(match, url, headers, body) {
  const input = {};
  let json;
  for (const [name, member] of match.route.op.input.structIterator()) {
    const t = member.getMergedTraits();
    let value;
    if (t.httpLabel) value = readScalar(match.labels[name], member);
    else if (t.httpQuery) value = readScalar(url.searchParams.get(t.httpQuery) ?? undefined, member);
    else if (t.httpHeader) value = readScalar(headers[t.httpHeader.toLowerCase()], member);
    else if (t.httpPayload) value = body;
    else {
      json ??= body.byteLength ? JSON.parse(body.toString('utf8')) : {};
      value = readJson(json[name], member);
    }
    if (value !== undefined) input[name] = value;
  }
  return input;
}

function writeJson(value, schema) {
  if (value === undefined || value === null) return undefined;
  if (schema.isListSchema()) return value.map((v) => writeJson(v, schema.getValueSchema()));
  if (schema.isStructSchema()) {
    const out = {};
    for (const [name, member] of schema.structIterator()) {
      const v = writeJson(value[name], member);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }
  if (schema.isTimestampSchema()) return (value instanceof Date ? value.getTime() : Number(value)) / 1000;
  return value;
}

async function bytesOf(data) {
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const chunks = [];
  for await (const c of data) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** The status, headers and body of a route's answer with the output object `output`. */
export async function encodeEbsResponse(route, output) {
  const headers = {};
  const json = {};
  let payload;
  for (const [name, member] of route.op.output.structIterator()) {
    const t = member.getMergedTraits();
    const value = output?.[name];
    if (value === undefined) continue;
    if (t.httpHeader) headers[t.httpHeader] = String(value);
    else if (t.httpPayload) payload = await bytesOf(value);
    else json[name] = writeJson(value, member);
  }
  if (payload) return { status: route.status, headers: { ...headers, 'content-type': 'application/octet-stream' }, body: payload };
  return { status: route.status, headers: { ...headers, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(json)) };
}

/**
 * The HTTP status of an EBS error: the httpError trait of the error in the SDK's model
 * (client-ebs dist-cjs); ThrottlingException, sent by the service's front door and not in the
 * model, is a 400 like RequestThrottledException.
 */
const EBS_ERROR_STATUS = {
  AccessDeniedException: 403,
  ConflictException: 409,
  InternalServerException: 500,
  ResourceNotFoundException: 404,
  ServiceQuotaExceededException: 402,
};

export function ebsErrorStatus(name) {
  return EBS_ERROR_STATUS[name] ?? 400;
}

export function encodeEbsError(message, reason) {
  return Buffer.from(JSON.stringify({ message, ...(reason ? { Reason: reason } : {}) }));
}
