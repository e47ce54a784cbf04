/**
 * @snapfleet/providers/redis: Redis clients for a fleet connection (standalone, Sentinel,
 * Cluster). Its own entry so that a command that only sometimes needs Redis loads ioredis
 * only then.
 */
export { asRedisConnector, createRedisConnector, type RedisConnector, type BullConnection } from './redis-connector.js';
