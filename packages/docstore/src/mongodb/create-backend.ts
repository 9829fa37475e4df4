import { InvalidConnectionStringError } from '@lock/core';
import { type Collection, MongoClient, type MongoClientOptions } from 'mongodb';
import { DocstoreBackend } from '../lease-backend.js';
import { DEFAULT_OPERATION_TIMEOUT_MS } from '../options.js';
import { type LockDocument, MongoLeaseCollection } from './mongo-collection.js';
import { checkMongoOptions, type MongoBackendOptions } from './options.js';
import { parseMongoUrl } from './uri.js';

/** Default database when neither the options nor the URL name one. */
export const DEFAULT_DATABASE = 'lock';
/** Default collection of lock documents. */
export const DEFAULT_COLLECTION = 'locks';

/**
 * Locks in a MongoDB collection (or FerretDB): one document per lock, taken and renewed by
 * writes filtered on the document's write id. Waiting polls with backoff and jitter (core's);
 * expiry is judged by Amazon's method (a full lease of the same version on the waiter's clock).
 * Nothing is sent before the first call.
 * @throws {InvalidArgumentError} for a bad option; {@link InvalidConnectionStringError} for a
 * bad `url` (password masked), including options the driver does not know.
 * @example
 * ```ts
 * import { createLocker } from '@lock/core';
 * import { createMongoBackend } from '@lock/docstore/mongodb';
 *
 * const locker = createLocker(createMongoBackend({ url: 'mongodb://127.0.0.1:27017/app' }), { ttl: 10_000 });
 * await locker.withLock('nightly-report', async (signal, lock) => console.log('fence', lock.fence));
 * await locker.close();
 * ```
 */
export function createMongoBackend(options: MongoBackendOptions): DocstoreBackend {
  checkMongoOptions(options, 'options');
  const { client, ownsClient, database, collection, keyPrefix, operationTimeout } =
    resolve(options);
  const handle = client
    .db(database)
    .collection<LockDocument>(collection, { writeConcern: { w: 'majority' } });
  return new DocstoreBackend(
    new MongoLeaseCollection(handle as Collection<LockDocument>, ownsClient ? client : undefined),
    { keyPrefix, operationTimeout },
  );
}

function resolve(options: MongoBackendOptions) {
  if (options.client !== undefined) {
    return {
      client: options.client,
      ownsClient: false,
      database: options.database ?? DEFAULT_DATABASE,
      collection: options.collection ?? DEFAULT_COLLECTION,
      keyPrefix: options.keyPrefix,
      operationTimeout: options.operationTimeout,
    };
  }
  const url = options.url as string;
  const parsed = parseMongoUrl(url);
  const operationTimeout =
    options.operationTimeout ?? parsed.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT_MS;
  let client: MongoClient;
  try {
    client = new MongoClient(parsed.driverUrl, {
      ...driverDefaults(parsed.driverUrl, operationTimeout),
      ...options.clientOptions,
    });
  } catch (error) {
    throw new InvalidConnectionStringError(url, (error as Error).message, error);
  }
  return {
    client,
    ownsClient: true,
    database: options.database ?? parsed.database ?? DEFAULT_DATABASE,
    collection: options.collection ?? parsed.collection ?? DEFAULT_COLLECTION,
    keyPrefix: options.keyPrefix ?? parsed.keyPrefix,
    operationTimeout,
  };
}

/**
 * Timeouts for a client this package creates, where the URL sets none: the driver's own
 * `timeoutMS` did not bound a request to a paused server here, `socketTimeoutMS` did (and our
 * own deadline bounds every call anyway); `retryReads` would double a failing read's wait.
 * `retryWrites` stays on: on a replica set the server runs a retried write exactly once.
 */
function driverDefaults(url: string, operationTimeout: number): MongoClientOptions {
  const given = new Set(
    [...new URLSearchParams(url.split('?')[1] ?? '').keys()].map((k) => k.toLowerCase()),
  );
  const defaults: Record<string, unknown> = {
    serverSelectionTimeoutMS: operationTimeout,
    connectTimeoutMS: Math.min(operationTimeout, 10_000),
    socketTimeoutMS: operationTimeout,
    retryReads: false,
    maxPoolSize: 20,
  };
  return Object.fromEntries(
    Object.entries(defaults).filter(([name]) => !given.has(name.toLowerCase())),
  ) as MongoClientOptions;
}
