import type { LockBackend } from '@lock/core';
import { createMongoBackend } from './create-backend.js';
import { checkMongoOptions, type MongoBackendOptions } from './options.js';

/**
 * Opens a backend for core's `connect()`: `mongodb://…` or `mongodb+srv://…`, with this
 * package's `collection`, `keyPrefix` and `operationTimeout` in the query besides the driver's
 * options. `options` are {@link MongoBackendOptions} other than `client` and `url`; they
 * override the URL. Nothing is sent until the first lock call.
 * @throws {InvalidConnectionStringError} for a malformed URI (its password masked).
 * @throws {InvalidArgumentError} for an unknown option.
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * const locker = await connect('mongodb://127.0.0.1:27017/app?collection=locks', { ttl: 10_000 });
 * ```
 */
export async function openBackend(
  uri: string,
  options?: Record<string, unknown>,
): Promise<LockBackend> {
  const merged = { ...options, url: uri };
  checkMongoOptions(merged, 'options.backend');
  return createMongoBackend(merged as MongoBackendOptions);
}
