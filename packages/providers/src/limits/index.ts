export { createMemoryRateLimiter, createRedisRateLimiter, type RateLimitOptions, type RedisRateLimitOptions } from './paced-rate-limiter.js';
