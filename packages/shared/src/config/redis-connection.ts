/**
 * Where the fleet's Redis is (`fleet.redis`, else REDIS_URL): one server, a primary found through
 * Sentinel, or a Cluster; and the ioredis options each kind of client gets. Pure: the caller
 * reads the environment and password files and passes the values in; this module imports no
 * Redis client, so the shapes below are ioredis's option names, written out.
 * Reference: docs/operations.md, "Redis: Sentinel and Cluster".
 */
import { z } from 'zod';
import { envNameSchema } from './env-name-schema.js';
import { parseListen } from './board-listen.js';
import { Secret } from './secret.js';

/** Default Redis of the embedded setup. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RedisNode {
  host: string;
  port: number;
}

/** "host:port" or "[v6]:port"; the host is required (a node list has no sensible default). */
function hostPort(what: string) {
  return z.string().transform((text, ctx): RedisNode => {
    const node = text.includes(':') ? parseListen(text) : undefined;
    if (!node || !node.host) ctx.addIssue({ code: 'custom', message: `${what}: expected "host:port", got ${JSON.stringify(text)}` });
    return node ?? { host: '', port: 0 };
  });
}

/**
 * `fleet.redis`: exactly one of `url`, `sentinels` (with `name`) or `cluster`. Absent: REDIS_URL,
 * else redis://127.0.0.1:6379. Passwords come from the environment or a file, never this file.
 */
export const redisConfigSchema = z
  .strictObject({
    /** redis://host:port[/db] or rediss:// (TLS); a password goes in passwordEnv / passwordFile. */
    url: z
      .string()
      .min(1)
      .refine((u) => /^rediss?:\/\//.test(u), { error: 'must be redis:// or rediss://' })
      .refine((u) => !/^rediss?:\/\/[^/@]*:[^/@]*@/.test(u), { error: 'must not hold a password: use passwordEnv or passwordFile' })
      .optional(),
    /** Sentinels ("host:port"), asked for the current primary of `name`. */
    sentinels: z.array(hostPort('sentinels')).min(1).optional(),
    /** The master name the sentinels monitor (`sentinel monitor <name> ...`). */
    name: z.string().min(1).optional(),
    /** Startup nodes of a Redis Cluster ("host:port"); the rest are discovered. */
    cluster: z.array(hostPort('cluster')).min(1).optional(),
    /** ACL user of the data nodes. @defaultValue the default user */
    username: z.string().min(1).optional(),
    /** The environment variable holding the data nodes' password. */
    passwordEnv: envNameSchema.optional(),
    /** A file holding the data nodes' password (one trailing newline dropped; relative to the config file). */
    passwordFile: z.string().min(1).optional(),
    /** Database number (not with `cluster`: a cluster has only 0). @defaultValue 0 */
    db: z.number().int().min(0).optional(),
    /** TLS to the data nodes (a `rediss://` url implies it). @defaultValue false */
    tls: z.boolean().default(false),
    /** ACL user of the sentinels. */
    sentinelUsername: z.string().min(1).optional(),
    /** The environment variable holding the sentinels' password (`requirepass` of the sentinels). */
    sentinelPasswordEnv: envNameSchema.optional(),
    /** A file holding the sentinels' password. */
    sentinelPasswordFile: z.string().min(1).optional(),
    /** TLS to the sentinels. @defaultValue false */
    sentinelTls: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    const kinds = (['url', 'sentinels', 'cluster'] as const).filter((k) => r[k] !== undefined);
    if (kinds.length > 1) ctx.addIssue({ code: 'custom', path: [kinds[1]!], message: 'give one of url, sentinels or cluster' });
    if (r.sentinels && !r.name) ctx.addIssue({ code: 'custom', path: ['name'], message: 'sentinels need the master name' });
    if (r.name && !r.sentinels) ctx.addIssue({ code: 'custom', path: ['name'], message: 'name goes with sentinels' });
    if (r.cluster && r.db) ctx.addIssue({ code: 'custom', path: ['db'], message: 'a cluster has only database 0' });
    if (r.passwordEnv && r.passwordFile) ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'give passwordEnv or passwordFile, not both' });
    if (r.sentinelPasswordEnv && r.sentinelPasswordFile)
      ctx.addIssue({ code: 'custom', path: ['sentinelPasswordFile'], message: 'give sentinelPasswordEnv or sentinelPasswordFile, not both' });
    const sentinelOnly = (['sentinelUsername', 'sentinelPasswordEnv', 'sentinelPasswordFile'] as const).find((k) => r[k] !== undefined);
    if (sentinelOnly && !r.sentinels) ctx.addIssue({ code: 'custom', path: [sentinelOnly], message: 'goes with sentinels' });
    if (r.sentinelTls && !r.sentinels) ctx.addIssue({ code: 'custom', path: ['sentinelTls'], message: 'goes with sentinels' });
  });

export type RedisConfig = z.output<typeof redisConfigSchema>;

/** Credentials and options of the data nodes (every kind). */
export interface RedisAuth {
  username?: string;
  password?: Secret;
  db?: number;
  tls?: boolean;
}

/** A resolved connection: what a process connects to. Secrets stay wrapped until a client is made. */
export type RedisConnectionSpec =
  | { mode: 'standalone'; node: RedisNode; auth: RedisAuth }
  | { mode: 'sentinel'; sentinels: RedisNode[]; name: string; auth: RedisAuth; sentinel: { username?: string; password?: Secret; tls?: boolean } }
  | { mode: 'cluster'; nodes: RedisNode[]; auth: RedisAuth };

export interface RedisSecrets {
  password?: Secret;
  sentinelPassword?: Secret;
}

/**
 * The connection of `fleet.redis` (passwords read by the caller), else of `url` (REDIS_URL),
 * else the default. REDIS_URL takes redis:// and rediss:// as always, and also
 * `redis+sentinel://[user:pass@]h1:p1,h2:p2/<name>[/db]` and `redis+cluster://[user:pass@]h1:p1,h2:p2`
 * for commands that run without a config file.
 */
export function redisConnectionSpec(section: RedisConfig | undefined, url: string | undefined, secrets: RedisSecrets = {}): RedisConnectionSpec {
  if (section && (section.sentinels || section.cluster || section.url)) {
    const auth: RedisAuth = {
      ...(section.username ? { username: section.username } : {}),
      ...(secrets.password ? { password: secrets.password } : {}),
      ...(section.db ? { db: section.db } : {}),
      ...(section.tls ? { tls: true } : {}),
    };
    if (section.sentinels) {
      const sentinel = {
        ...(section.sentinelUsername ? { username: section.sentinelUsername } : {}),
        ...(secrets.sentinelPassword ? { password: secrets.sentinelPassword } : {}),
        ...(section.sentinelTls ? { tls: true } : {}),
      };
      return { mode: 'sentinel', sentinels: section.sentinels, name: section.name!, auth, sentinel };
    }
    if (section.cluster) return { mode: 'cluster', nodes: section.cluster, auth };
    const fromUrl = parseRedisUrl(section.url!);
    return { ...fromUrl, auth: { ...fromUrl.auth, ...auth } } as RedisConnectionSpec;
  }
  const spec = parseRedisUrl(url || DEFAULT_REDIS_URL);
  // A password-only section (passwordEnv with REDIS_URL) still applies.
  if (section && secrets.password) spec.auth.password = secrets.password;
  return spec;
}

/** REDIS_URL -> connection; throws Error with a reason on anything else. */
export function parseRedisUrl(url: string): RedisConnectionSpec {
  const m = /^(redis|rediss|redis\+sentinel|rediss\+sentinel|redis\+cluster|rediss\+cluster):\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?$/.exec(url);
  if (!m) throw new Error(`expected redis://, rediss://, redis+sentinel:// or redis+cluster://, got ${redactUrl(url)}`);
  // Groups 1 and 3 always take part in a match: the defaults only satisfy the index types.
  const [, scheme = '', userinfo, hosts = '', path] = m;
  const auth: RedisAuth = { ...(scheme.startsWith('rediss') ? { tls: true } : {}) };
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (user) auth.username = user;
    if (colon >= 0 && colon < userinfo.length - 1) auth.password = new Secret(decodeURIComponent(userinfo.slice(colon + 1)));
  }
  const nodes = hosts.split(',').map((h) => {
    const node = h.includes(':') ? parseListen(h) : h ? { host: h, port: scheme.includes('sentinel') ? 26_379 : 6379 } : undefined;
    if (!node || !node.host) throw new Error(`bad host ${JSON.stringify(h)} in ${redactUrl(url)}`);
    return node;
  });
  const parts = (path ?? '').split('/').filter(Boolean);
  const dbOf = (s: string | undefined) => {
    if (s === undefined) return;
    if (!/^\d+$/.test(s)) throw new Error(`bad database number ${JSON.stringify(s)} in ${redactUrl(url)}`);
    if (Number(s)) auth.db = Number(s);
  };
  if (scheme.endsWith('+sentinel')) {
    if (!parts[0]) throw new Error(`${redactUrl(url)}: the master name is the path (redis+sentinel://h1:26379,h2:26379/mymaster)`);
    dbOf(parts[1]);
    return { mode: 'sentinel', sentinels: nodes, name: decodeURIComponent(parts[0]), auth, sentinel: {} };
  }
  if (scheme.endsWith('+cluster')) {
    if (parts.length) throw new Error(`${redactUrl(url)}: a cluster has no database number`);
    return { mode: 'cluster', nodes, auth };
  }
  if (nodes.length !== 1) throw new Error(`${redactUrl(url)}: one host (use redis+sentinel:// or redis+cluster:// for several)`);
  dbOf(parts[0]);
  return { mode: 'standalone', node: nodes[0]!, auth };
}

/** The URL with any password replaced, for error messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:@/]*:)[^@/]*@/i, '$1[redacted]@');
}

/**
 * The fleet's key prefix on this connection. On a Cluster every key of one script call, MULTI or
 * pipeline must hash to one slot, and BullMQ's own scripts touch several keys of a queue: so the
 * prefix becomes a hash tag (`{snapfleet}`), which puts every key of the fleet (queues, locks,
 * compliance records, audit stream, rate limiters) in one slot. A prefix that already holds a
 * tag is kept as given.
 */
export function fleetKeyPrefix(prefix: string, spec: RedisConnectionSpec): string {
  if (spec.mode !== 'cluster' || /\{[^}]+\}/.test(prefix)) return prefix;
  return `{${prefix}}`;
}

/** What the client is for (BullMQ's production guide). */
export type RedisRole = 'worker' | 'producer';

/**
 * ioredis options of a standalone or Sentinel client. Workers (blocking commands) get
 * `maxRetriesPerRequest: null`, so an outage or failover pauses them instead of failing their
 * commands; producers `enableOfflineQueue: false`, so an enqueue while Redis is away fails at
 * once instead of queueing in memory.
 */
export function ioredisOptions(spec: Exclude<RedisConnectionSpec, { mode: 'cluster' }>, role?: RedisRole): Record<string, unknown> {
  const base =
    spec.mode === 'standalone'
      ? { host: spec.node.host, port: spec.node.port }
      : {
          sentinels: spec.sentinels.map((n) => ({ host: n.host, port: n.port })),
          name: spec.name,
          ...(spec.sentinel.username ? { sentinelUsername: spec.sentinel.username } : {}),
          ...(spec.sentinel.password ? { sentinelPassword: spec.sentinel.password.reveal() } : {}),
          ...(spec.sentinel.tls ? { sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
          // After a failover the old primary may answer as a replica for a moment: reconnect on
          // READONLY instead of failing the write.
          reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
        };
  return { ...base, ...nodeOptions(spec.auth), ...redisRoleOptions(role) };
}

/**
 * ioredis Cluster arguments: startup nodes and cluster options (the data nodes' credentials as
 * `redisOptions`, the role's options at both levels as ioredis reads them).
 */
export function ioredisClusterOptions(
  spec: Extract<RedisConnectionSpec, { mode: 'cluster' }>,
  role?: RedisRole,
): { nodes: RedisNode[]; options: Record<string, unknown> } {
  const { maxRetriesPerRequest, ...clusterLevel } = redisRoleOptions(role);
  const { tls, ...node } = nodeOptions(spec.auth);
  return {
    nodes: spec.nodes.map((n) => ({ host: n.host, port: n.port })),
    options: {
      ...clusterLevel,
      redisOptions: { ...node, ...(tls ? { tls } : {}), ...(maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest } : {}) },
    },
  };
}

function nodeOptions(auth: RedisAuth): Record<string, unknown> {
  return {
    ...(auth.username ? { username: auth.username } : {}),
    ...(auth.password ? { password: auth.password.reveal() } : {}),
    ...(auth.db ? { db: auth.db } : {}),
    ...(auth.tls ? { tls: {} } : {}),
  };
}

/** The settings of a role's client, for every kind of connection (also ioredis options given as they are, in tests). */
export function redisRoleOptions(role: RedisRole | undefined): { maxRetriesPerRequest?: null; enableOfflineQueue?: boolean } {
  if (role === 'worker') return { maxRetriesPerRequest: null };
  if (role === 'producer') return { enableOfflineQueue: false };
  return {};
}

/** One line for logs and errors: the kind and the nodes, never a password. */
export function describeRedis(spec: RedisConnectionSpec): string {
  const list = (nodes: RedisNode[]) => nodes.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`).join(',');
  if (spec.mode === 'standalone') return `redis ${list([spec.node])}${spec.auth.db ? `/${spec.auth.db}` : ''}`;
  if (spec.mode === 'sentinel') return `sentinel ${spec.name} via ${list(spec.sentinels)}`;
  return `cluster ${list(spec.nodes)}`;
}
