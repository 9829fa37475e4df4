import type { ConnectionOptions as TlsOptions } from 'node:tls';
import {
  checkOptions,
  InvalidArgumentError,
  InvalidConnectionStringError,
  type LockBackend,
} from '@lock/core';
import type { RedisClientOptions } from 'redis';
import type { RedisBackendOptions } from './options.js';
import { RedisBackend } from './redis-backend.js';

/** Options `openBackend` (and so core's `connect(uri, { backend })`) accepts. */
export interface OpenBackendOptions
  extends Pick<
    RedisBackendOptions,
    | 'prefix'
    | 'connectTimeout'
    | 'commandTimeout'
    | 'fair'
    | 'queuePollInterval'
    | 'queueEntryTtl'
    | 'checkEvictionPolicy'
    | 'onWarning'
  > {
  /** TLS options for `rediss://` (a CA, client certificate, `servername`…), passed to Node's `tls.connect`. */
  readonly tls?: TlsOptions;
}

const OPTION_NAMES = [
  'prefix',
  'connectTimeout',
  'commandTimeout',
  'fair',
  'queuePollInterval',
  'queueEntryTtl',
  'checkEvictionPolicy',
  'onWarning',
  'tls',
] as const;

/** Query parameters of the URI and the option each sets. */
const QUERY: Readonly<
  Record<string, { option: keyof OpenBackendOptions; kind: 'ms' | 'bool' | 'string' }>
> = {
  prefix: { option: 'prefix', kind: 'string' },
  'connect-timeout': { option: 'connectTimeout', kind: 'ms' },
  'command-timeout': { option: 'commandTimeout', kind: 'ms' },
  fair: { option: 'fair', kind: 'bool' },
  'queue-poll-interval': { option: 'queuePollInterval', kind: 'ms' },
  'queue-entry-ttl': { option: 'queueEntryTtl', kind: 'ms' },
  'check-eviction-policy': { option: 'checkEvictionPolicy', kind: 'bool' },
};

/**
 * Opens a {@link RedisBackend} from a connection string, for core's `connect()`:
 * `redis[s]://[[user][:password]@]host[:port][/db][?connect-timeout=2s&command-timeout=500ms&prefix=app:&fair=false]`.
 * `rediss://` uses TLS. Durations take `ms`, `s` or `m` (a bare number is milliseconds).
 * Options given in `options` win over the same ones in the query. Connects before returning,
 * so a wrong host or password fails here.
 * @throws {InvalidConnectionStringError} for a URI it cannot read (the password is masked).
 * @throws {InvalidArgumentError} for an unknown option.
 * @throws {BackendError} when Redis cannot be reached or refuses the credentials.
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * const locker = await connect('redis://:secret@127.0.0.1:6379/0?command-timeout=1s', { ttl: 10_000 });
 * ```
 */
export async function openBackend(
  uri: string,
  options: Record<string, unknown> = {},
): Promise<LockBackend> {
  const backend = new RedisBackend(parseRedisUri(uri, options));
  try {
    return await backend.connect();
  } catch (error) {
    await backend.close();
    throw error;
  }
}

/**
 * Parses a `redis://` / `rediss://` URI (plus extra options) into {@link RedisBackendOptions},
 * without connecting.
 * @throws {InvalidConnectionStringError} / {InvalidArgumentError} as {@link openBackend}.
 */
export function parseRedisUri(
  uri: string,
  options: Record<string, unknown> = {},
): RedisBackendOptions {
  if (typeof uri !== 'string') throw new InvalidArgumentError('uri', uri, 'must be a string');
  checkOptions(options, 'options', OPTION_NAMES);
  let url: URL;
  try {
    url = new URL(uri);
  } catch (error) {
    throw new InvalidConnectionStringError(uri, 'not a valid URL', error);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InvalidConnectionStringError(uri, 'the scheme must be "redis:" or "rediss:"');
  }
  if (url.hostname === '') throw new InvalidConnectionStringError(uri, 'a host is required');
  const path = url.pathname;
  let database: number | undefined;
  if (path !== '' && path !== '/') {
    if (!/^\/\d+$/.test(path)) {
      throw new InvalidConnectionStringError(
        uri,
        'the path must be a database number, such as "/0"',
      );
    }
    database = Number(path.slice(1));
  }
  const fromQuery: Record<string, unknown> = {};
  for (const [name, value] of url.searchParams) {
    const spec = QUERY[name];
    if (spec === undefined) {
      throw new InvalidConnectionStringError(
        uri,
        `unknown query parameter "${name}" (known: ${Object.keys(QUERY).join(', ')})`,
      );
    }
    fromQuery[spec.option] = parseValue(uri, name, value, spec.kind);
  }
  const { tls, ...rest } = { ...fromQuery, ...options } as OpenBackendOptions;
  if (tls !== undefined && url.protocol !== 'rediss:') {
    throw new InvalidArgumentError('options.tls', tls, 'is only allowed with "rediss://"');
  }
  const socket = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 6379 : Number(url.port),
    ...(url.protocol === 'rediss:' ? { tls: true, ...tls } : {}),
  } as NonNullable<RedisClientOptions['socket']>;
  const clientOptions: RedisClientOptions = {
    socket,
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    ...(database === undefined ? {} : { database }),
  };
  return { ...rest, clientOptions };
}

function parseValue(
  uri: string,
  name: string,
  value: string,
  kind: 'ms' | 'bool' | 'string',
): unknown {
  if (kind === 'string') return value;
  if (kind === 'bool') {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new InvalidConnectionStringError(uri, `"${name}" must be true or false`);
  }
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  if (match === null) {
    throw new InvalidConnectionStringError(
      uri,
      `"${name}" must be a duration such as 500ms, 2s or 1m`,
    );
  }
  const unit = match[2] === 's' ? 1_000 : match[2] === 'm' ? 60_000 : 1;
  return Number(match[1]) * unit;
}
