/**
 * Redis clients for one resolved connection (`RedisConnectionSpec` from @snapfleet/shared/config):
 * a standalone server, a primary found through Sentinel, or a Cluster. The composition roots make
 * one connector per process and hand it to the planner, worker and board, which ask it for clients
 * instead of building their own.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { describeRedis, ioredisClusterOptions, ioredisOptions, redisRoleOptions, type RedisConnectionSpec, type RedisRole } from '@snapfleet/shared/config';

/**
 * What BullMQ's `connection` option takes: ioredis options (as BullMQ types them, an open record)
 * or a client. Its own shape here, so providers need not depend on bullmq.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- BullMQ's RedisOptions is `{ [key: string]: any }`
export type BullConnection = { [key: string]: any } | Redis | Cluster;

export interface RedisConnector {
  readonly spec: RedisConnectionSpec;
  /** "sentinel fleet via a:26379,b:26379": for logs; never a password. */
  readonly description: string;
  /**
   * A new client the caller owns (and closes). On a Cluster it is an ioredis `Cluster`, typed as
   * `Redis`: the fleet uses only commands, MULTI, pipelines and events, which a Cluster routes by
   * key (every fleet key shares one hash tag: `fleetKeyPrefix`).
   */
  client(role?: RedisRole, overrides?: RedisOptions): Redis;
  /**
   * BullMQ's `connection` for a Queue or Worker of this role. Standalone and Sentinel: options
   * (BullMQ makes and closes its clients). Cluster: BullMQ needs a client, so one Cluster client
   * per role is shared by every Queue and Worker asking here, and closed by `close()` (BullMQ
   * leaves a shared client open; a Worker duplicates it for its blocking connection and closes that).
   */
  bullmq(role: RedisRole): BullConnection;
  /** Closes the Cluster clients `bullmq()` made. Call it after the queues and workers closed. */
  close(): Promise<void>;
}

export function createRedisConnector(spec: RedisConnectionSpec): RedisConnector {
  const shared = new Map<RedisRole, Cluster>();
  const clusterClient = (cluster: Extract<RedisConnectionSpec, { mode: 'cluster' }>, role?: RedisRole, overrides: RedisOptions = {}): Cluster => {
    const { nodes, options } = ioredisClusterOptions(cluster, role);
    const { enableOfflineQueue, lazyConnect, ...perNode } = overrides;
    return new Cluster(nodes, {
      ...options,
      ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
      ...(lazyConnect !== undefined ? { lazyConnect } : {}),
      redisOptions: { ...(options.redisOptions as RedisOptions), ...perNode },
    });
  };
  const client = (role?: RedisRole, overrides: RedisOptions = {}): Redis => {
    if (spec.mode !== 'cluster') return new Redis({ ...ioredisOptions(spec, role), ...overrides } as RedisOptions);
    // The one place a Cluster passes for a Redis (see RedisConnector.client): ioredis types the two
    // apart although a Cluster answers every command, MULTI and pipeline the fleet sends.
    return clusterClient(spec, role, overrides) as unknown as Redis;
  };
  return {
    spec,
    description: describeRedis(spec),
    client,
    bullmq(role) {
      if (spec.mode !== 'cluster') return ioredisOptions(spec, role);
      let cluster = shared.get(role);
      if (!cluster) {
        cluster = clusterClient(spec, role);
        // BullMQ's queues and workers report errors on their own 'error' events.
        cluster.on('error', () => {});
        shared.set(role, cluster);
      }
      return cluster;
    },
    async close() {
      const all = [...shared.values()];
      shared.clear();
      await Promise.all(all.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/**
 * A connector, or plain ioredis options (a standalone or Sentinel server, as tests and benchmarks
 * give them) seen as one: BullMQ gets the options with the role's settings, clients are made from them.
 */
export function asRedisConnector(connection: RedisConnector | RedisOptions): RedisConnector {
  if (isConnector(connection)) return connection;
  const spec: RedisConnectionSpec = connection.sentinels?.length
    ? {
        mode: 'sentinel',
        sentinels: connection.sentinels.map((n) => ({ host: n.host ?? '127.0.0.1', port: n.port ?? 26_379 })),
        name: connection.name ?? '',
        auth: {},
        sentinel: {},
      }
    : { mode: 'standalone', node: { host: connection.host ?? '127.0.0.1', port: connection.port ?? 6379 }, auth: {} };
  return {
    spec,
    description: describeRedis(spec),
    client: (role, overrides = {}) => new Redis({ ...connection, ...redisRoleOptions(role), ...overrides }),
    bullmq: (role) => ({ ...connection, ...redisRoleOptions(role) }),
    close: async () => {},
  };
}

function isConnector(c: RedisConnector | RedisOptions): c is RedisConnector {
  return typeof (c as Partial<RedisConnector>).bullmq === 'function';
}
