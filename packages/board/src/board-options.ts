/**
 * What `startBoard` takes. Everything is passed in, already parsed (board-config.ts does that for
 * the CLI): the board reads no environment and no files.
 */
import type { RedisOptions } from 'ioredis';
import type { AuditEntry } from '@snapfleet/shared/jobs';
import type { PolicyCompliance, VolumeCompliance } from '@snapfleet/shared/compliance';

/** viewer: read-only dashboard and GET endpoints. operator: may also retry / remove / promote. */
export type Role = 'viewer' | 'operator';

/** A plain string, or a redacting wrapper such as shared's `Secret` (anything with `reveal()`). */
export type SecretValue = string | { reveal(): string };

export interface BoardUser {
  name: string;
  /** The password, or its scrypt or bcrypt hash (auth/password-hash.ts): exactly one. */
  password?: SecretValue;
  passwordHash?: SecretValue;
  role: Role;
}

/**
 * At least one of the three must be set: with none, startBoard refuses to start rather than serve
 * an open board. `token` grants the operator role; `anonymous` grants only the viewer role.
 */
export interface AuthOptions {
  /** Bearer token (or HTTP basic auth with user name `token`). Grants the operator role. */
  token?: SecretValue;
  users?: readonly BoardUser[];
  /** Requests without credentials get the viewer role. @defaultValue false */
  anonymous?: boolean;
}

/** pino-compatible: a pino Logger can be passed as is. */
export interface BoardLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Extra Prometheus series appended to /metrics: either exposition text, or a map from a series
 * name (optionally with labels, `name{queue="archive"}`) to its value.
 */
export type ExtraMetricsValue = string | Record<string, number>;

export interface ExtraMetricsContext {
  /** The board's Redis connection (an ioredis client), shared: do not close it. */
  connection: import('ioredis').Redis;
  prefix: string;
}

/** What the /compliance page shows (compliance-page.ts). */
export interface ComplianceData {
  policies: PolicyCompliance[];
  volumes: VolumeCompliance[];
}

export type ComplianceSource = (ctx: ExtraMetricsContext) => Promise<ComplianceData>;

export interface BoardOptions {
  /** A redis:// URL, ioredis options, or a function making the client from the board's options (a Sentinel or Cluster connection). */
  connection: string | RedisOptions | ((overrides: RedisOptions) => import('ioredis').Redis);
  /** BullMQ key prefix of the fleet. @defaultValue 'snapfleet' */
  prefix?: string;
  queueNames: readonly string[];
  auth: AuthOptions;
  /** port 0 picks a free port; the chosen one is in the returned url. */
  listen: { host: string; port: number };
  log?: BoardLogger;
  /** Fleet-wide counters kept by the workers (readFleetMetrics), appended to /metrics. */
  extraMetrics?: (ctx: ExtraMetricsContext) => Promise<ExtraMetricsValue>;
  /** Serve HTTPS with this certificate and key (PEM). Absent: HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Records an operator's change (the fleet's audit log; absent: changes are only logged). */
  audit?: (ctx: ExtraMetricsContext, entry: AuditEntry) => Promise<void>;
  /** RPO compliance for the /compliance page (absent: no page). */
  compliance?: ComplianceSource;
}

export interface RunningBoard {
  /** Origin the board listens on, e.g. http://127.0.0.1:3000 (the dashboard is at `${url}/board/`). */
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_PREFIX = 'snapfleet';

export const silentLogger: BoardLogger = { info() {}, warn() {}, error() {} };
