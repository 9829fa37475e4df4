import type { LockBackend } from '@lock/core';
import { createDynamoBackend } from './create-backend.js';
import { checkDynamoOptions, type DynamoBackendOptions } from './options.js';
import { parseDynamoUrl } from './uri.js';

/**
 * Opens a backend for core's `connect()`:
 * `dynamodb://TABLE?region=…&endpoint=…&keyPrefix=…&operationTimeout=…&maxAttempts=…`.
 * `options` are {@link DynamoBackendOptions} (such as `clientConfig`); they override the URI.
 * @throws {InvalidConnectionStringError} for a malformed URI or an unknown parameter.
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * const locker = await connect('dynamodb://locks?region=eu-west-1', { ttl: 10_000 });
 * ```
 */
export async function openBackend(
  uri: string,
  options?: Record<string, unknown>,
): Promise<LockBackend> {
  const merged = { ...parseDynamoUrl(uri), ...options };
  checkDynamoOptions(merged, 'options.backend');
  return createDynamoBackend(merged as DynamoBackendOptions);
}
