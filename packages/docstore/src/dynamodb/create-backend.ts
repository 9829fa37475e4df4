import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DocstoreBackend } from '../lease-backend.js';
import { DEFAULT_OPERATION_TIMEOUT_MS } from '../options.js';
import { DynamoLeaseCollection } from './dynamo-collection.js';
import { checkDynamoOptions, type DynamoBackendOptions } from './options.js';

/**
 * Locks in a DynamoDB table: one item per lock, taken and renewed by conditional `PutItem`s on
 * the item's write id, keepalive batched in `TransactWriteItems`. DynamoDB has no clock a
 * request can read, so expiry is Amazon's DynamoDB lock client method: a waiter takes an
 * expired lock only after seeing the same version for a full lease on its own monotonic clock.
 * Waiting polls with backoff and jitter (core's). Nothing is sent before the first call.
 * @throws {InvalidArgumentError} for a bad option.
 * @example
 * ```ts
 * import { createLocker } from '@lock/core';
 * import { createDynamoBackend } from '@lock/docstore/dynamodb';
 *
 * const locker = createLocker(createDynamoBackend({ table: 'locks', region: 'eu-west-1' }), { ttl: 10_000 });
 * await locker.withLock('nightly-report', async (signal, lock) => console.log('fence', lock.fence));
 * await locker.close();
 * ```
 */
export function createDynamoBackend(options: DynamoBackendOptions): DocstoreBackend {
  checkDynamoOptions(options, 'options');
  const operationTimeout = options.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT_MS;
  const client = options.client ?? createClient(options, operationTimeout);
  return new DocstoreBackend(
    new DynamoLeaseCollection(client, options.table, options.client === undefined),
    { keyPrefix: options.keyPrefix, operationTimeout },
  );
}

/**
 * A client with deadlines that work: `requestTimeout` alone only logs a warning and a request
 * to a paused server waited forever; `throwOnRequestTimeout` makes it fail.
 */
function createClient(options: DynamoBackendOptions, operationTimeout: number): DynamoDBClient {
  return new DynamoDBClient({
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    maxAttempts: options.maxAttempts ?? 2,
    requestHandler: {
      requestTimeout: operationTimeout,
      connectionTimeout: Math.min(operationTimeout, 3_000),
      throwOnRequestTimeout: true,
    },
    ...options.clientConfig,
  });
}
