/**
 * Where the operator board listens: "host:port", "[v6addr]:port", ":port" (all interfaces) or
 * "port" (loopback, like the default). One parser for the config file and the --listen flag.
 */

/** Loopback only: exposing the board is a decision, not an accident. */
export const DEFAULT_BOARD_LISTEN = '127.0.0.1:3000';

/**
 * The user name that carries the board token over HTTP basic auth (for clients that cannot send
 * a bearer header): no configured user may take it.
 */
export const BOARD_TOKEN_USER = 'token';

export interface BoardListen {
  host: string;
  port: number;
}

export function parseListen(text: string): BoardListen | undefined {
  const trimmed = text.trim();
  const match = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):)?(\d{1,5})$/.exec(trimmed);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  const hasHost = trimmed.includes(':');
  return { host: match[1] ?? (hasHost ? match[2] || '0.0.0.0' : '127.0.0.1'), port };
}
