/**
 * Options of the MongoDB adapter.
 * @module
 */
import { InvalidArgumentError } from '@lock/core';
import type { MongoClient, MongoClientOptions } from 'mongodb';
import { checkName } from '../names.js';
import { checkLeaseOptions, LEASE_OPTION_NAMES, type LeaseOptions } from '../options.js';

/** Options of {@link createMongoBackend}. Give exactly one of `client` and `url`. */
export interface MongoBackendOptions extends LeaseOptions {
  /** Your connected or unconnected `MongoClient`; left open by `close()`. */
  readonly client?: MongoClient;
  /**
   * A `mongodb://` or `mongodb+srv://` connection string. Its path names the database; its
   * query may carry this package's `collection`, `keyPrefix` and `operationTimeout` besides
   * the driver's own options.
   */
  readonly url?: string;
  /**
   * Database of the lock collection.
   * @default the database in `url`'s path, else `"lock"`
   */
  readonly database?: string;
  /**
   * Collection of lock documents.
   * @default "locks"
   */
  readonly collection?: string;
  /** Driver options for the client this package creates from `url` (not with `client`). */
  readonly clientOptions?: MongoClientOptions;
}

/** Every option name {@link MongoBackendOptions} knows. */
export const MONGO_OPTION_NAMES: readonly string[] = [
  ...LEASE_OPTION_NAMES,
  'client',
  'url',
  'database',
  'collection',
  'clientOptions',
];

/** MongoDB's rules for collection names. */
export const COLLECTION_RULE = {
  pattern: /^(?!system\.)[^$\0]+$/,
  text: 'must be a MongoDB collection name (no "$" or NUL, not starting with "system.")',
  maxBytes: 120,
} as const;

/** MongoDB's rules for database names. */
export const DATABASE_RULE = {
  pattern: /^[^/\\. "$*<>:|?\0]+$/,
  text: 'must be a MongoDB database name (none of / \\ . " $ * < > : | ? or spaces)',
  maxBytes: 63,
} as const;

/** Throws {@link InvalidArgumentError} for a bad option, named under `name`. */
export function checkMongoOptions(
  options: unknown,
  name: string,
): asserts options is MongoBackendOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(name, options, 'must be an object');
  }
  for (const [key, value] of Object.entries(options)) {
    if (!MONGO_OPTION_NAMES.includes(key)) {
      // Never echo a string under an unknown name: it may be a misspelt password.
      throw new InvalidArgumentError(
        `${name}.${key}`,
        typeof value === 'string' ? '***' : value,
        `is not a known option (known: ${MONGO_OPTION_NAMES.join(', ')})`,
      );
    }
  }
  const o = options as MongoBackendOptions;
  checkLeaseOptions(o, name);
  if ((o.client === undefined) === (o.url === undefined)) {
    throw new InvalidArgumentError(name, options, 'must give exactly one of client and url');
  }
  if (o.client !== undefined) {
    const client = o.client as unknown as Record<string, unknown>;
    if (typeof client !== 'object' || client === null || typeof client['db'] !== 'function') {
      throw new InvalidArgumentError(`${name}.client`, o.client, 'must be a MongoClient');
    }
    if (o.clientOptions !== undefined) {
      throw new InvalidArgumentError(
        `${name}.clientOptions`,
        o.clientOptions,
        'cannot be combined with client: configure your MongoClient instead',
      );
    }
  }
  if (o.url !== undefined && typeof o.url !== 'string') {
    throw new InvalidArgumentError(`${name}.url`, '***', 'must be a string');
  }
  if (o.database !== undefined) checkName(o.database, `${name}.database`, DATABASE_RULE);
  if (o.collection !== undefined) checkName(o.collection, `${name}.collection`, COLLECTION_RULE);
  if (
    o.clientOptions !== undefined &&
    (typeof o.clientOptions !== 'object' || o.clientOptions === null)
  ) {
    throw new InvalidArgumentError(`${name}.clientOptions`, o.clientOptions, 'must be an object');
  }
}
