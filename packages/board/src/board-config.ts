/**
 * The `board` section of the snapfleet config file, parsed at the edge (the CLI) into
 * BoardOptions pieces. Field names are shared with the fleet config schema:
 *
 *   board:
 *     listen: "127.0.0.1:3000"
 *     auth:
 *       token: "..."                                  # operator; or SNAPFLEET_BOARD_TOKEN
 *       users: [{ name: alice, password: "...", role: operator }]
 *       anonymous: false                              # true: no credentials = viewer
 *   fleet:
 *     prefix: snapfleet                               # read too: the queues' key prefix
 *
 * Secrets come out wrapped (they print as [redacted]); errors name the file and the field.
 */
import { InvalidInputError } from '@snapfleet/shared';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { AuthOptions, SecretValue } from './board-options.js';
import { TOKEN_USER } from './auth/credentials.js';

/** @defaultValue loopback only: exposing the board is a decision, not an accident. */
export const DEFAULT_LISTEN = '127.0.0.1:3000';
/** 16 characters at least: a token is typed by nobody, and a short one can be guessed online. */
export const MIN_TOKEN_LENGTH = 16;
/** Passwords are typed by people; 8 is the floor NIST SP 800-63B sets for them. */
export const MIN_PASSWORD_LENGTH = 8;

const secret = (min: number, what: string) =>
  z
    .string()
    .min(min, `${what} must be at least ${min} characters`)
    .transform((value) => redacted(value));

const userSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .regex(/^[^:\s]+$/, 'user names may not contain ":" or spaces (HTTP basic auth)')
    .refine((n) => n !== TOKEN_USER, `"${TOKEN_USER}" is reserved: it carries the token over basic auth`),
  password: secret(MIN_PASSWORD_LENGTH, 'password'),
  /** @defaultValue 'viewer' */
  role: z.enum(['viewer', 'operator']).default('viewer'),
});

const authSchema = z
  .strictObject({
    token: secret(MIN_TOKEN_LENGTH, 'token').optional(),
    users: z.array(userSchema).optional(),
    /** @defaultValue false */
    anonymous: z.boolean().default(false),
  })
  .refine((a) => a.token !== undefined || (a.users?.length ?? 0) > 0 || a.anonymous, {
    message: 'set a token, users, or anonymous: true (the board is never open by default)',
  })
  .refine((a) => new Set((a.users ?? []).map((u) => u.name)).size === (a.users ?? []).length, { message: 'user names must be unique', path: ['users'] });

export const boardSectionSchema = z.strictObject({
  /** "host:port", "[::1]:3000", ":3000" (all interfaces) or "3000" (loopback). */
  listen: z.string().default(DEFAULT_LISTEN).transform((text, ctx) => {
    const listen = parseListen(text);
    if (!listen) ctx.addIssue({ code: 'custom', message: `expected "host:port", got ${JSON.stringify(text)}` });
    return listen ?? { host: '', port: 0 };
  }),
  /** Required in effect: missing, it is checked as empty and fails with the refine's message. */
  auth: authSchema.prefault({}),
});

export interface BoardSection {
  listen: { host: string; port: number };
  auth: AuthOptions;
  /** The fleet's BullMQ prefix (`fleet.prefix` of the same file), when the file sets one. */
  prefix?: string;
}

/**
 * "host:port", "[v6addr]:port", ":port" (all interfaces) or "port" (loopback, like the default).
 */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const trimmed = text.trim();
  const match = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):)?(\d{1,5})$/.exec(trimmed);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  const hasHost = trimmed.includes(':');
  return { host: match[1] ?? (hasHost ? match[2] || '0.0.0.0' : '127.0.0.1'), port };
}

/**
 * Validates `document.board`. `overrides.token` (from SNAPFLEET_BOARD_TOKEN, read by the caller)
 * replaces the file's token and is validated the same way.
 */
export function parseBoardSection(document: unknown, source: string, overrides: { token?: string } = {}): BoardSection {
  const section = isRecord(document) ? document.board : undefined;
  if (section !== undefined && !isRecord(section)) throw new InvalidInputError(`${source}: board: expected a mapping`, 'board');
  const input = { ...section };
  if (overrides.token !== undefined) input.auth = { ...(isRecord(input.auth) ? input.auth : {}), token: overrides.token };
  const result = boardSectionSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = ['board', ...issue.path.map(String)].join('.');
    throw new InvalidInputError(`${source}: ${field}: ${issue.message}`, field);
  }
  const fleet = isRecord(document) ? document.fleet : undefined;
  const prefix = isRecord(fleet) ? fleet.prefix : undefined;
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(prefix))) {
    throw new InvalidInputError(`${source}: fleet.prefix: must start with a letter or digit and contain only letters, digits, "_", "." and "-"`, 'fleet.prefix');
  }
  return prefix === undefined ? result.data : { ...result.data, prefix };
}

/** YAML or JSON (YAML is a superset) text of a whole config file, then its board section. */
export function parseBoardConfigText(text: string, source: string, overrides: { token?: string } = {}): BoardSection {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new InvalidInputError(`${source}: not valid YAML or JSON: ${(err as Error).message}`, undefined, { cause: err });
  }
  return parseBoardSection(document, source, overrides);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A secret that prints as [redacted] in logs, JSON and util.inspect. */
function redacted(value: string): SecretValue {
  const REDACTED = '[redacted]';
  return {
    reveal: () => value,
    toString: () => REDACTED,
    toJSON: () => REDACTED,
    [Symbol.for('nodejs.util.inspect.custom')]: () => REDACTED,
  } as SecretValue;
}
