/**
 * Reads `dynamodb://TABLE?region=…&endpoint=…` connection strings.
 * @module
 */
import { InvalidConnectionStringError, isLockError } from '@lock/core';
import { queryParameters } from '../names.js';
import { checkDynamoOptions, type DynamoBackendOptions } from './options.js';

/** The query parameters a `dynamodb://` URI takes. */
export const DYNAMO_URL_PARAMETERS = [
  'region',
  'endpoint',
  'keyPrefix',
  'operationTimeout',
  'maxAttempts',
] as const;

const EXAMPLE =
  'expected "dynamodb://TABLE[?region=eu-west-1&endpoint=http://127.0.0.1:8000&keyPrefix=…&operationTimeout=5000&maxAttempts=2]"';

/**
 * Parses `dynamodb://TABLE[?region=…&endpoint=…&keyPrefix=…&operationTimeout=…&maxAttempts=…]`
 * into {@link DynamoBackendOptions}. Credentials never go in the URI: the SDK reads them from
 * its usual sources (environment, profile, instance role).
 * @throws {InvalidConnectionStringError} naming the rule broken.
 */
export function parseDynamoUrl(uri: string): DynamoBackendOptions {
  const match = /^dynamodb:\/\/([^/?#]*)\/?(?:\?([^#]*))?$/i.exec(uri);
  if (match === null) throw new InvalidConnectionStringError(uri, EXAMPLE);
  const authority = match[1] as string;
  if (authority.includes('@')) {
    throw new InvalidConnectionStringError(
      uri,
      'credentials do not go in the URI: the AWS SDK reads them from its usual sources',
    );
  }
  if (authority === '') throw new InvalidConnectionStringError(uri, `no table name: ${EXAMPLE}`);
  const options: Record<string, unknown> = { table: decodeURIComponent(authority) };
  const parameters = queryParameters(match[2] ?? '', (name) => {
    throw new InvalidConnectionStringError(uri, `"${name}" is given twice`);
  });
  for (const [name, value] of parameters) {
    if (!(DYNAMO_URL_PARAMETERS as readonly string[]).includes(name)) {
      throw new InvalidConnectionStringError(
        uri,
        `unknown parameter "${name}" (known: ${DYNAMO_URL_PARAMETERS.join(', ')})`,
      );
    }
    options[name] = name === 'operationTimeout' || name === 'maxAttempts' ? Number(value) : value;
  }
  try {
    checkDynamoOptions(options, 'uri');
  } catch (error) {
    if (isLockError(error)) throw new InvalidConnectionStringError(uri, error.message, error);
    throw error;
  }
  return options as unknown as DynamoBackendOptions;
}
