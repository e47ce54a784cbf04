/**
 * The EC2 Query protocol, server side: a form-encoded POST (`Action=DescribeSnapshots&Version=
 * 2016-11-15&Filter.1.Name=...`) becomes the command's input object, and the handler's output
 * object becomes EC2's XML answer (`<DescribeSnapshotsResponse><requestId/><snapshotSet><item>`).
 * Names come from the SDK's schemas: request keys are a member's ec2QueryName (or its capitalized
 * xmlName), lists are flattened with 1-based indexes; answers use each member's xmlName and wrap
 * list items in `<item>`. Errors have EC2's own shape, which the SDK parses for the Code.
 */
import { Buffer } from 'node:buffer';
import { URLSearchParams } from 'node:url';
import { operationOf } from './sdk-schemas.mjs';

/** The API version every EC2 Query request names and every answer's namespace carries. */
const EC2_VERSION = '2016-11-15';

const capitalize = (s) => s[0].toUpperCase() + s.slice(1);

function queryKey(name, member) {
  const t = member.getMergedTraits();
  return t.ec2QueryName ?? capitalize(t.xmlName ?? name);
}

function hasPrefix(params, prefix) {
  for (const k of params.keys()) if (k === prefix || k.startsWith(`${prefix}.`)) return true;
  return false;
}

function readScalar(text, schema) {
  if (schema.isNumericSchema()) return Number(text);
  if (schema.isBooleanSchema()) return text === 'true';
  if (schema.isTimestampSchema()) return new Date(text);
  if (schema.isBlobSchema()) return Buffer.from(text, 'base64');
  return text;
}

/** The value at `prefix` of the flattened form `params` (a Map), shaped by `schema`. */
function readQuery(params, schema, prefix) {
  if (schema.isStructSchema()) {
    const out = {};
    for (const [name, member] of schema.structIterator()) {
      const key = prefix ? `${prefix}.${queryKey(name, member)}` : queryKey(name, member);
      if (!hasPrefix(params, key)) continue;
      out[name] = readQuery(params, member, key);
    }
    return out;
  }
  if (schema.isListSchema()) {
    const items = [];
    for (let i = 1; hasPrefix(params, `${prefix}.${i}`); i++) items.push(readQuery(params, schema.getValueSchema(), `${prefix}.${i}`));
    return items;
  }
  return readScalar(params.get(prefix), schema);
}

/** `Action` and the input object of a form-encoded EC2 request body. */
export function decodeEc2Request(body) {
  const form = new URLSearchParams(body);
  const action = form.get('Action');
  if (!action) return { action: undefined, input: {} };
  const params = new Map([...form].filter(([k]) => k !== 'Action' && k !== 'Version'));
  return { action, input: readQuery(params, operationOf('ec2', action).input, '') };
}

export function escapeXml(text) {
  return String(text).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);
}

function writeXml(value, schema, tag) {
  if (value === undefined || value === null) return '';
  if (schema.isStructSchema()) {
    let inner = '';
    for (const [name, member] of schema.structIterator()) inner += writeXml(value[name], member, member.getMergedTraits().xmlName ?? name);
    return `<${tag}>${inner}</${tag}>`;
  }
  if (schema.isListSchema()) {
    const item = schema.getValueSchema();
    return `<${tag}>${value.map((v) => writeXml(v, item, item.getMergedTraits().xmlName ?? 'item')).join('')}</${tag}>`;
  }
  if (schema.isTimestampSchema()) return `<${tag}>${(value instanceof Date ? value : new Date(value)).toISOString()}</${tag}>`;
  if (schema.isBlobSchema()) return `<${tag}>${Buffer.from(value).toString('base64')}</${tag}>`;
  return `<${tag}>${escapeXml(value)}</${tag}>`;
}

/** EC2's XML answer to `action` with the output object `output`. */
export function encodeEc2Response(action, output, requestId) {
  const schema = operationOf('ec2', action).output;
  let inner = `<requestId>${requestId}</requestId>`;
  for (const [name, member] of schema.structIterator()) inner += writeXml(output?.[name], member, member.getMergedTraits().xmlName ?? name);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/${EC2_VERSION}/">${inner}</${action}Response>`;
}

/** EC2's error document: the SDK reads Code as the error's name and Message as its message. */
export function encodeEc2Error(code, message, requestId) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}

/**
 * The HTTP status EC2 answers an error with: 503 for RequestLimitExceeded and Unavailable, 500
 * for InternalError, 400 for the rest (client errors).
 */
export function ec2ErrorStatus(code) {
  if (code === 'RequestLimitExceeded' || code === 'Unavailable') return 503;
  if (code === 'InternalError' || code === 'InternalFailure') return 500;
  return 400;
}
