/**
 * Parses the fleet configuration once, at the edge, from the file's text and name (the CLI reads
 * the file; this stays pure). Every error names the file, the path and the field:
 * `fleet.yaml: policies[0].schedules[1].cron: invalid cron expression ...`.
 */
import { isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { fleetConfigSchema, type FleetConfig } from './fleet-config-schema.js';

export interface ParseFleetConfigOptions {
  /** Absolute directory relative paths (volumes, folder repositories, password files) are resolved against: the config file's. */
  baseDir?: string;
  /**
   * Replaces `board.auth.token` when the file has a board section (SNAPFLEET_BOARD_TOKEN, read
   * by the caller), validated as the file's token would be.
   */
  boardToken?: string;
}

/** `['policies', 0, 'schedules', 1, 'cron']` -> `policies[0].schedules[1].cron`. */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += (out ? '.' : '') + String(part);
  }
  return out;
}

function issueLines(fileName: string, error: z.ZodError): { text: string; field: string } {
  const lines = error.issues.map((i) => `${fileName}: ${i.path.length ? formatConfigPath(i.path) + ': ' : ''}${i.message}`);
  return { text: lines.join('; '), field: formatConfigPath(error.issues[0]?.path ?? []) };
}

/** Text -> plain data (YAML 1.2, which also reads JSON). Duplicate keys are errors. */
function parseText(text: string, fileName: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
    throw new InvalidInputError(`${fileName}: ${where}${first.message.split('\n')[0]}`, 'config');
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // The yaml library refuses aliases that expand past its limit (a "billion laughs" document)
    // with a ReferenceError of its own: that is bad input, said as such.
    throw new InvalidInputError(`${fileName}: ${(err as Error).message}`, 'config', { cause: err });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new InvalidInputError(`${fileName}: the file must hold a mapping (fleet, repositories, volumes, policies, board)`, 'config');
  return data;
}

function resolvePaths(config: FleetConfig, baseDir: string): FleetConfig {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const isUrl = (u: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(u);
  for (const r of Object.values(config.repositories)) {
    if (!isUrl(r.url)) r.url = at(r.url);
    if (r.passwordFile) r.passwordFile = at(r.passwordFile);
  }
  for (const v of Object.values(config.volumes)) v.path = at(v.path);
  const redis = config.fleet.redis;
  if (redis?.passwordFile) redis.passwordFile = at(redis.passwordFile);
  if (redis?.sentinelPasswordFile) redis.sentinelPasswordFile = at(redis.sentinelPasswordFile);
  return config;
}

/** Parses and validates; throws InvalidInputError naming file, path and field. */
export function parseFleetConfig(text: string, fileName: string, options: ParseFleetConfigOptions = {}): FleetConfig {
  const data = parseText(text, fileName) as Record<string, unknown>;
  if (options.boardToken !== undefined && isMapping(data.board)) {
    data.board = { ...data.board, auth: { ...(isMapping(data.board.auth) ? data.board.auth : {}), token: options.boardToken } };
  }
  const result = fleetConfigSchema.safeParse(data);
  if (!result.success) {
    const { text: message, field } = issueLines(fileName, result.error);
    throw new InvalidInputError(message, field || 'config');
  }
  return options.baseDir ? resolvePaths(result.data, options.baseDir) : result.data;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
