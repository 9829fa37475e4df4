/**
 * Options of the DynamoDB adapter.
 * @module
 */
import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { InvalidArgumentError } from '@lock/core';
import { checkName } from '../names.js';
import { checkLeaseOptions, type LeaseOptions } from '../options.js';

/** Options of {@link createDynamoBackend}. */
export interface DynamoBackendOptions extends LeaseOptions {
  /** The table of lock items: partition key `id` (string), no sort key. See `createDynamoTable`. */
  readonly table: string;
  /** Your `DynamoDBClient`; left open by `close()`. Without it one is created. */
  readonly client?: DynamoDBClient;
  /** AWS region of the client this package creates. @default the SDK's (`AWS_REGION`, profile) */
  readonly region?: string;
  /** Endpoint of the client this package creates (DynamoDB Local, dynalite, a VPC endpoint). */
  readonly endpoint?: string;
  /**
   * Attempts per request of the client this package creates (the SDK's retries). Retrying a
   * conditional write is safe here: a write id tells a landed first attempt from a lost race.
   * @default 2
   */
  readonly maxAttempts?: number;
  /** More configuration for the client this package creates (credentials, …); not with `client`. */
  readonly clientConfig?: DynamoDBClientConfig;
}

/** Every option name {@link DynamoBackendOptions} knows. */
export const DYNAMO_OPTION_NAMES: readonly string[] = [
  'keyPrefix',
  'operationTimeout',
  'table',
  'client',
  'region',
  'endpoint',
  'maxAttempts',
  'clientConfig',
];

/** DynamoDB's rules for table names. */
export const TABLE_RULE = {
  pattern: /^[A-Za-z0-9_.-]{3,255}$/,
  text: 'must be a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)',
  maxBytes: 255,
} as const;

/** DynamoDB's rules for regions (as the SDK takes them). */
const REGION = /^[a-z0-9-]{1,63}$/;

/** Throws {@link InvalidArgumentError} for a bad option, named under `name`. */
export function checkDynamoOptions(
  options: unknown,
  name: string,
): asserts options is DynamoBackendOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(name, options, 'must be an object');
  }
  for (const [key, value] of Object.entries(options)) {
    if (!DYNAMO_OPTION_NAMES.includes(key)) {
      throw new InvalidArgumentError(
        `${name}.${key}`,
        typeof value === 'string' ? '***' : value,
        `is not a known option (known: ${DYNAMO_OPTION_NAMES.join(', ')})`,
      );
    }
  }
  const o = options as DynamoBackendOptions;
  checkLeaseOptions(o, name);
  checkName(o.table, `${name}.table`, TABLE_RULE);
  if (o.client !== undefined) {
    const client = o.client as unknown as Record<string, unknown>;
    if (typeof client !== 'object' || client === null || typeof client['send'] !== 'function') {
      throw new InvalidArgumentError(`${name}.client`, o.client, 'must be a DynamoDBClient');
    }
    for (const k of ['region', 'endpoint', 'maxAttempts', 'clientConfig'] as const) {
      if (o[k] !== undefined) {
        throw new InvalidArgumentError(
          `${name}.${k}`,
          o[k],
          'cannot be combined with client: configure your DynamoDBClient instead',
        );
      }
    }
  }
  if (o.region !== undefined && (typeof o.region !== 'string' || !REGION.test(o.region))) {
    throw new InvalidArgumentError(
      `${name}.region`,
      o.region,
      'must be an AWS region such as "eu-west-1"',
    );
  }
  if (o.endpoint !== undefined) checkEndpoint(o.endpoint, `${name}.endpoint`);
  if (
    o.maxAttempts !== undefined &&
    !(Number.isInteger(o.maxAttempts) && o.maxAttempts >= 1 && o.maxAttempts <= 10)
  ) {
    throw new InvalidArgumentError(
      `${name}.maxAttempts`,
      o.maxAttempts,
      'must be an integer in 1..10',
    );
  }
  if (
    o.clientConfig !== undefined &&
    (typeof o.clientConfig !== 'object' || o.clientConfig === null)
  ) {
    throw new InvalidArgumentError(`${name}.clientConfig`, o.clientConfig, 'must be an object');
  }
}

/** Throws unless `endpoint` is an `http://` or `https://` URL without credentials. */
export function checkEndpoint(endpoint: unknown, name: string): asserts endpoint is string {
  let url: URL | undefined;
  try {
    url = typeof endpoint === 'string' ? new URL(endpoint) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InvalidArgumentError(name, endpoint, 'must be an http:// or https:// URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidArgumentError(
      name,
      '***',
      'must not carry credentials (the SDK reads them from its usual sources)',
    );
  }
}
