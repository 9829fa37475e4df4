import type { LockBackend, OpenContext } from '@lock/core';
import { MemcachedBackend } from './memcached-backend.js';
import { checkBackendOptions, type MemcachedBackendOptions } from './options.js';
import { parseUri } from './uri.js';

/**
 * Opens a backend for core's `connect()`, checking the URI and every option and doing no I/O
 * (core then calls `connect()`, one VERSION per server, unless asked to be lazy):
 * `memcached://[user:pass@]host[:port][,host[:port]…][?timeout=1000&retries=1&…]`.
 * `options` are {@link MemcachedBackendOptions} other than `client`, `servers`, `uri` and `host`;
 * they override the query string.
 * @throws {InvalidConnectionStringError} for a malformed URI (its password masked).
 * @throws {InvalidArgumentError} for an unknown or unsupported option.
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * const locker = await connect('memcached://127.0.0.1:11211?timeout=500', { ttl: 10_000 });
 * ```
 */
export async function openBackend(
  uri: string,
  options?: Record<string, unknown>,
  context?: OpenContext,
): Promise<LockBackend> {
  const parsed = parseUri(uri);
  // connect() passes what is left of its own timeout: reaching the servers takes no longer,
  // unless the URI or the options set a connect timeout of their own.
  const connectTimeout =
    options?.['connectTimeout'] ?? parsed.options.connectTimeout ?? context?.connectTimeoutMs;
  const merged = {
    ...options,
    uri,
    ...(connectTimeout === undefined ? {} : { connectTimeout }),
  } as MemcachedBackendOptions;
  checkBackendOptions(merged, 'options.backend');
  return new MemcachedBackend(merged);
}
