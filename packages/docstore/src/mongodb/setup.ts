import { InvalidArgumentError } from '@lock/core';
import { MongoClient } from 'mongodb';
import { toBackendError } from '../errors.js';
import { checkName } from '../names.js';
import { DEFAULT_COLLECTION, DEFAULT_DATABASE } from './create-backend.js';
import { COLLECTION_RULE, DATABASE_RULE } from './options.js';
import { parseMongoUrl } from './uri.js';

/** Options of {@link ensureMongoCollection}. Give exactly one of `client` and `url`. */
export interface EnsureMongoCollectionOptions {
  /** Your `MongoClient` (left open). */
  readonly client?: MongoClient;
  /** A connection string (a client is opened and closed for the call). */
  readonly url?: string;
  /** @default the database in `url`'s path, else `"lock"` */
  readonly database?: string;
  /** @default `?collection=` in `url`, else `"locks"` */
  readonly collection?: string;
  /**
   * Delete lock documents not written for this many seconds, with a TTL index on the `at`
   * field (stamped by the server on every write). Keep it far above any lease: a document
   * deleted while held would let another process in (its fences restart from the clock).
   * Not supported by FerretDB 1.24. Omit for no clean-up.
   */
  readonly cleanupAfterSeconds?: number;
}

/**
 * Creates the lock collection if it is missing (MongoDB would create it on the first write
 * anyway; this makes it explicit, with the write concern and index in one place), and the
 * optional TTL index for clean-up of idle documents. Safe to run at every start.
 * @throws {InvalidArgumentError} for a bad option; `BackendError` when the server refuses.
 * @example
 * ```ts
 * await ensureMongoCollection({ url: 'mongodb://127.0.0.1:27017/app', cleanupAfterSeconds: 30 * 86_400 });
 * ```
 */
export async function ensureMongoCollection(options: EnsureMongoCollectionOptions): Promise<void> {
  if ((options.client === undefined) === (options.url === undefined)) {
    throw new InvalidArgumentError('options', options, 'must give exactly one of client and url');
  }
  const parsed = options.url === undefined ? undefined : parseMongoUrl(options.url);
  const database = options.database ?? parsed?.database ?? DEFAULT_DATABASE;
  const name = options.collection ?? parsed?.collection ?? DEFAULT_COLLECTION;
  checkName(database, 'options.database', DATABASE_RULE);
  checkName(name, 'options.collection', COLLECTION_RULE);
  const cleanup = options.cleanupAfterSeconds;
  if (cleanup !== undefined && !(Number.isInteger(cleanup) && cleanup > 0)) {
    throw new InvalidArgumentError(
      'options.cleanupAfterSeconds',
      cleanup,
      'must be a whole number of seconds > 0',
    );
  }
  const client =
    options.client ??
    new MongoClient(parsed?.driverUrl as string, { serverSelectionTimeoutMS: 10_000 });
  try {
    const db = client.db(database);
    const existing = await db.listCollections({ name }, { nameOnly: true }).toArray();
    if (existing.length === 0) {
      await db.createCollection(name).catch((error: unknown) => {
        // Created meanwhile by another process: fine.
        if ((error as { code?: unknown }).code !== 48) throw error;
      });
    }
    if (cleanup !== undefined) {
      await db
        .collection(name)
        .createIndex({ at: 1 }, { name: 'lock_cleanup', expireAfterSeconds: cleanup });
    }
  } catch (error) {
    throw toBackendError(error, 'mongodb', `setup of collection "${database}.${name}"`);
  } finally {
    if (options.client === undefined) await client.close();
  }
}
