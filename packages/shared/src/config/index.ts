/**
 * @snapfleet/shared/config: the fleet configuration (fleet.yaml), parsed once at the edge from
 * text. Pure: the caller reads the file and passes its text and name. Reference: docs/operations.md.
 */
export { boardConfigSchema } from './board-config-schema.js';
export {
  fleetConfigSchema,
  scheduleSchema,
  type FleetConfig,
  type FleetConfigInput,
  type PolicyConfig,
  type ScheduleConfig,
  type RepositoryConfig,
  type VolumeConfig,
  type VolumeSelector,
  type BoardConfig,
  type QueueLimits,
} from './fleet-config-schema.js';
export {
  copyRetentionOf,
  copyTargetsOf,
  kmsKeyRegion,
  providerSchema,
  type ProviderConfig,
  type AwsProviderConfig,
  type AwsLimitsConfig,
  type AwsRegionLimitsConfig,
  type AwsCopyConfig,
} from './provider-config-schema.js';
export { parseFleetConfig, formatConfigPath, type ParseFleetConfigOptions } from './parse-fleet-config.js';
export { Secret, isSecret } from './secret.js';
export { parseListen, DEFAULT_BOARD_LISTEN, BOARD_TOKEN_USER, type BoardListen } from './board-listen.js';
export { parseIntervalMs, formatIntervalMs } from './intervals.js';
export { globMatches, globToRegExp } from './glob.js';
export { selectorMatches, type SelectableVolume } from './volume-selector.js';
export { ALERT_EVENTS, alertsSchema, targetWants, type AlertEvent, type AlertsConfig, type AlertTargetConfig } from './alerts-schema.js';
export { drillTarget, drillTargetSchema, type DrillTarget, type DrillTargetInput } from './drill-schema.js';
export { orphansSchema, retentionGuardSchema, type OrphansConfig, type OrphanTierRules, type RetentionGuardConfig } from './orphans-schema.js';
export {
  DEFAULT_REDIS_URL,
  redisConfigSchema,
  redisConnectionSpec,
  parseRedisUrl,
  redactUrl,
  fleetKeyPrefix,
  ioredisOptions,
  ioredisClusterOptions,
  redisRoleOptions,
  describeRedis,
  type RedisConfig,
  type RedisConnectionSpec,
  type RedisNode,
  type RedisAuth,
  type RedisSecrets,
  type RedisRole,
} from './redis-connection.js';
