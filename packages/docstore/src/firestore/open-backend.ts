import type { LockBackend } from '@lock/core';
import { createFirestoreBackend } from './create-backend.js';
import { checkFirestoreOptions, type FirestoreBackendOptions } from './options.js';
import { parseFirestoreUrl } from './uri.js';

/**
 * Opens a backend for core's `connect()`:
 * `firestore://PROJECT[/DATABASE]?collection=…&keyPrefix=…&operationTimeout=…`.
 * `options` are {@link FirestoreBackendOptions} (such as `settings`); they override the URI.
 * @throws {InvalidConnectionStringError} for a malformed URI or an unknown parameter.
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * const locker = await connect('firestore://my-project?collection=locks', { ttl: 10_000 });
 * ```
 */
export async function openBackend(
  uri: string,
  options?: Record<string, unknown>,
): Promise<LockBackend> {
  const merged = { ...parseFirestoreUrl(uri), ...options };
  checkFirestoreOptions(merged, 'options.backend');
  return createFirestoreBackend(merged as FirestoreBackendOptions);
}
