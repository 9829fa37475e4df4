/**
 * Reads `mongodb://` and `mongodb+srv://` connection strings: this package's own query
 * parameters are taken out, the rest is left to the driver (which rejects what it does not know).
 * @module
 */
import { InvalidConnectionStringError, isLockError } from '@lock/core';
import { checkName, queryParameters } from '../names.js';
import { checkLeaseOptions } from '../options.js';
import { COLLECTION_RULE, DATABASE_RULE } from './options.js';

/** What a MongoDB connection string says, besides what the driver reads. */
export interface ParsedMongoUrl {
  /** The connection string without this package's parameters, for the driver. */
  readonly driverUrl: string;
  /** The database in the path, if any. */
  readonly database: string | undefined;
  /** The collection given as `?collection=`. */
  readonly collection: string | undefined;
  /** `?keyPrefix=`. */
  readonly keyPrefix: string | undefined;
  /** `?operationTimeout=` in ms. */
  readonly operationTimeout: number | undefined;
}

/** This package's query parameters in a MongoDB connection string. */
export const MONGO_URL_PARAMETERS = ['collection', 'keyPrefix', 'operationTimeout'] as const;

const EXAMPLE =
  'expected "mongodb://[user:pass@]host[:port][,host…]/[database][?collection=locks&…]" or "mongodb+srv://…"';

/**
 * Parses a MongoDB connection string far enough to take out `collection`, `keyPrefix` and
 * `operationTimeout` and read the database from the path.
 * @throws {InvalidConnectionStringError} naming the rule broken; the password is masked.
 */
export function parseMongoUrl(url: string): ParsedMongoUrl {
  const match = /^(mongodb(?:\+srv)?:\/\/)([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(url);
  if (match === null) throw new InvalidConnectionStringError(url, EXAMPLE);
  const [, scheme, authority, path, query] = match as unknown as [
    string,
    string,
    string,
    string?,
    string?,
  ];
  if (authority.replace(/^.*@/, '') === '') {
    throw new InvalidConnectionStringError(url, `no host: ${EXAMPLE}`);
  }
  const parameters = queryParameters(query ?? '', (name) => {
    throw new InvalidConnectionStringError(url, `"${name}" is given twice`);
  });
  let database: string | undefined;
  try {
    database = path === undefined || path === '' ? undefined : decodeURIComponent(path);
    if (database !== undefined) checkName(database, 'database', DATABASE_RULE);
    const collection = parameters.get('collection');
    if (collection !== undefined) checkName(collection, 'collection', COLLECTION_RULE);
    const timeoutText = parameters.get('operationTimeout');
    const operationTimeout = timeoutText === undefined ? undefined : Number(timeoutText);
    checkLeaseOptions({ operationTimeout, keyPrefix: parameters.get('keyPrefix') }, 'url');
    const driverQuery = new URLSearchParams();
    for (const [name, value] of parameters) {
      if (!(MONGO_URL_PARAMETERS as readonly string[]).includes(name))
        driverQuery.append(name, value);
    }
    const rest = driverQuery.toString();
    return {
      driverUrl: `${scheme}${authority}/${path ?? ''}${rest === '' ? '' : `?${rest}`}`,
      database,
      collection,
      keyPrefix: parameters.get('keyPrefix'),
      operationTimeout,
    };
  } catch (error) {
    if (isLockError(error) && error.code !== 'INVALID_CONNECTION_STRING') {
      throw new InvalidConnectionStringError(url, error.message, error);
    }
    if (error instanceof URIError) {
      throw new InvalidConnectionStringError(
        url,
        'the database is not valid percent-encoding',
        error,
      );
    }
    throw error;
  }
}
