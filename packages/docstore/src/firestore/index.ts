/**
 * `@lock/docstore/firestore`: locks in a Firestore collection, on `@google-cloud/firestore`.
 * @packageDocumentation
 */
export { createFirestoreBackend, DEFAULT_FIRESTORE_COLLECTION } from './create-backend.js';
export { FirestoreLeaseCollection, MAX_BATCH_WRITES } from './firestore-collection.js';
export { openBackend } from './open-backend.js';
export {
  FIRESTORE_OPTION_NAMES,
  type FirestoreBackendOptions,
} from './options.js';
export { FIRESTORE_URL_PARAMETERS, parseFirestoreUrl } from './uri.js';
