import { Firestore } from '@google-cloud/firestore';
import { DocstoreBackend } from '../lease-backend.js';
import { DEFAULT_OPERATION_TIMEOUT_MS } from '../options.js';
import { FirestoreLeaseCollection } from './firestore-collection.js';
import { checkFirestoreOptions, type FirestoreBackendOptions } from './options.js';

/** Default collection of lock documents. */
export const DEFAULT_FIRESTORE_COLLECTION = 'locks';

/**
 * Locks in a Firestore collection: one document per lock, taken and renewed by writes with a
 * `lastUpdateTime` precondition, keepalive in batched writes. Expiry is judged by Firestore's
 * own clock (a read's read time against the document's update time). Waiters listen to the
 * document (`onSnapshot`) and try again when it is released. Nothing is sent before the first
 * call.
 * @throws {InvalidArgumentError} for a bad option.
 * @example
 * ```ts
 * import { createLocker } from '@lock/core';
 * import { createFirestoreBackend } from '@lock/docstore/firestore';
 *
 * const locker = createLocker(createFirestoreBackend({ projectId: 'my-project' }), { ttl: 10_000 });
 * await locker.withLock('nightly-report', async (signal, lock) => console.log('fence', lock.fence));
 * await locker.close();
 * ```
 */
export function createFirestoreBackend(options: FirestoreBackendOptions = {}): DocstoreBackend {
  checkFirestoreOptions(options, 'options');
  const operationTimeout = options.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT_MS;
  const firestore =
    options.firestore ??
    new Firestore({
      ...(options.projectId === undefined ? {} : { projectId: options.projectId }),
      ...(options.databaseId === undefined ? {} : { databaseId: options.databaseId }),
      clientConfig: deadlines(operationTimeout),
      ...options.settings,
    });
  return new DocstoreBackend(
    new FirestoreLeaseCollection(
      firestore,
      options.collection ?? DEFAULT_FIRESTORE_COLLECTION,
      options.firestore === undefined,
      operationTimeout,
    ),
    { keyPrefix: options.keyPrefix, operationTimeout },
  );
}

/** The RPCs the lock sends: reads (`BatchGetDocuments`), writes (`Commit`) and listeners. */
const METHODS = ['BatchGetDocuments', 'Commit', 'GetDocument', 'UpdateDocument', 'DeleteDocument'];

/**
 * Per-RPC deadlines for a client this package creates. Firestore's API has no per-call deadline
 * (so every call also races our own timer), and its defaults (60 s per attempt, 10 min in all)
 * keep requests to an unreachable server alive long after the call failed, which also holds
 * `terminate()` and the process open. These bound each RPC by `operationTimeout`.
 */
function deadlines(timeoutMs: number): Record<string, unknown> {
  return {
    interfaces: {
      'google.firestore.v1.Firestore': {
        retry_params: {
          default: {
            initial_retry_delay_millis: 100,
            retry_delay_multiplier: 1.3,
            max_retry_delay_millis: Math.min(1_000, timeoutMs),
            initial_rpc_timeout_millis: timeoutMs,
            rpc_timeout_multiplier: 1,
            max_rpc_timeout_millis: timeoutMs,
            total_timeout_millis: timeoutMs,
          },
        },
        methods: Object.fromEntries(
          METHODS.map((method) => [method, { timeout_millis: timeoutMs }]),
        ),
      },
    },
  };
}
