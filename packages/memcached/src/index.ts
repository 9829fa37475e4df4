/**
 * `@lock/memcached`: distributed locks for `@lock/core` in memcached, on the memjs driver.
 * @packageDocumentation
 */
export { MAX_TTL_MS } from './expiry.js';
export { type ItemKeys, itemKeys, MAX_KEY_BYTES } from './keys.js';
export { MemcachedBackend } from './memcached-backend.js';
export { openBackend } from './open-backend.js';
export {
  type MemcachedBackendOptions,
  OPTION_NAMES,
  type ServerAddress,
  UNSUPPORTED_OPTIONS,
} from './options.js';
export { type ParsedUri, parseUri } from './uri.js';
