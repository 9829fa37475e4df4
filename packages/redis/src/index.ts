/**
 * `@lock/redis`: locks in Redis for `@lock/core`, on node-redis. One-round-trip Lua scripts with
 * fencing, fair FIFO handoff, batched keepalive, pub/sub wakeups, Redlock quorum and Cluster.
 * @packageDocumentation
 */
export type { MessageListener, RedisClientLike, RedisClusterLike } from './client-types.js';
export { isOutOfMemoryReply, RedisOutOfMemoryError } from './errors.js';
export { evictionRisk } from './eviction-policy.js';
export { type LockKeys, lockKeys, type SemaphoreKeys, semaphoreKeys } from './keys.js';
export { parseRedisClusterUri, parseRedlockUri } from './multi-host-uri.js';
export { type OpenBackendOptions, openBackend, parseRedisUri } from './open-backend.js';
export {
  REDIS_BACKEND_OPTION_NAMES,
  type RedisBackendOptions,
} from './options.js';
export { RedisBackend } from './redis-backend.js';
export { RedlockBackend, type RedlockOptions } from './redlock-backend.js';
