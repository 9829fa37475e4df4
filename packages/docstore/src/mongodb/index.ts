/**
 * `@lock/docstore/mongodb`: locks in a MongoDB (or FerretDB) collection, on the `mongodb` driver.
 * @packageDocumentation
 */
export {
  createMongoBackend,
  DEFAULT_COLLECTION,
  DEFAULT_DATABASE,
} from './create-backend.js';
export { type LockDocument, MAX_BULK_UPDATES, MongoLeaseCollection } from './mongo-collection.js';
export { openBackend } from './open-backend.js';
export { MONGO_OPTION_NAMES, type MongoBackendOptions } from './options.js';
export { type EnsureMongoCollectionOptions, ensureMongoCollection } from './setup.js';
export { MONGO_URL_PARAMETERS, type ParsedMongoUrl, parseMongoUrl } from './uri.js';
