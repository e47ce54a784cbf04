/**
 * The `board` section of the snapfleet config file, parsed at the edge (the CLI) into
 * BoardOptions pieces, with the fleet config's own board schema (`boardConfigSchema`), so that
 * `snapfleet board` and `snapfleet run` take the same files:
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
import { boardConfigSchema, DEFAULT_BOARD_LISTEN, parseListen, type BoardConfig } from '@snapfleet/shared/config';
import { parse as parseYaml } from 'yaml';

export { parseListen };
export const DEFAULT_LISTEN = DEFAULT_BOARD_LISTEN;

export interface BoardSection {
  listen: { host: string; port: number };
  /** As parsed: users may name their password by `passwordEnv` or `passwordFile`, which the caller reads. */
  auth: BoardConfig['auth'];
  /** The fleet's BullMQ prefix (`fleet.prefix` of the same file), when the file sets one. */
  prefix?: string;
  /** Certificate and key files for HTTPS (read by the caller). */
  tls?: { certFile: string; keyFile: string };
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
  const result = boardConfigSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = ['board', ...issue.path.map(String)].join('.');
    throw new InvalidInputError(`${source}: ${field}: ${issue.message}`, field);
  }
  const fleet = isRecord(document) ? document.fleet : undefined;
  const prefix = isRecord(fleet) ? fleet.prefix : undefined;
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(prefix))) {
    throw new InvalidInputError(
      `${source}: fleet.prefix: must start with a letter or digit and contain only letters, digits, "_", "." and "-"`,
      'fleet.prefix',
    );
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
