import type { ConnectionOptions as TlsOptions } from 'node:tls';
import {
  checkOptions,
  InvalidArgumentError,
  InvalidConnectionStringError,
  type LockBackend,
  type OpenContext,
} from '@lock/core';
import type { RedisClientOptions } from 'redis';
import { parseRedisClusterUri, parseRedlockUri } from './multi-host-uri.js';
import { REDIS_URI_OPTION_NAMES, type RedisBackendOptions } from './options.js';
import { RedisBackend } from './redis-backend.js';
import { RedlockBackend } from './redlock-backend.js';
import { REDIS_QUERY, readQuery } from './uri-query.js';

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
  /** `redlock://` only: see {@link RedlockOptions.driftFactor}. */
  readonly driftFactor?: number;
  /**
   * TLS options for `rediss://`, `redlocks://` and `rediss-cluster://` (a CA, client
   * certificate, `servername`…), passed to Node's `tls.connect`.
   */
  readonly tls?: TlsOptions;
}

/**
 * Opens a backend from a connection string, for core's `connect()`, checking the URI and every
 * option first and doing no I/O: `connect()` then reaches the server (`backend.connect()`, one
 * `PING`) unless it was asked to be lazy, so a wrong host or password fails there. Durations take `ms`, `s` or `m` (a bare number is
 * milliseconds); options given in `options` win over the same ones in the query.
 *
 * - `redis[s]://[[user][:password]@]host[:port][/db][?connect-timeout=2s&command-timeout=500ms&prefix=app:&fair=false]`:
 *   a {@link RedisBackend} on one server (`rediss://`: TLS).
 * - `redlock[s]://[[user][:password]@]host1[:port],host2[:port],host3[:port][/db][?drift-factor=0.01]`:
 *   a {@link RedlockBackend} over an odd number of independent servers (see {@link parseRedlockUri}).
 * - `redis[s]-cluster://[[user][:password]@]host1[:port],host2[:port][?…]`: a {@link RedisBackend}
 *   on a Redis Cluster, whose client it owns (see {@link parseRedisClusterUri}).
 * @throws {InvalidConnectionStringError} for a URI it cannot read (the password is masked).
 * @throws {InvalidArgumentError} for an unknown option, or one that does not apply.
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * const locker = await connect('redis://:secret@127.0.0.1:6379/0?command-timeout=1s', { ttl: 10_000 });
 * const redlock = await connect('redlock://10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379', { ttl: 10_000 });
 * ```
 */
export async function openBackend(
  uri: string,
  options: Record<string, unknown> = {},
  context?: OpenContext,
): Promise<LockBackend> {
  if (typeof uri !== 'string') throw new InvalidArgumentError('uri', uri, 'must be a string');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  // connect() passes what is left of its own connect timeout: the backend's is no longer,
  // unless the URI or the options set one.
  const withTimeout =
    context === undefined || 'connectTimeout' in options || /[?&]connect-timeout=/.test(uri)
      ? options
      : { ...options, connectTimeout: context.connectTimeoutMs };
  return scheme === 'redlock' || scheme === 'redlocks'
    ? new RedlockBackend(parseRedlockUri(uri, withTimeout))
    : scheme === 'redis-cluster' || scheme === 'rediss-cluster'
      ? new RedisBackend(parseRedisClusterUri(uri, withTimeout))
      : new RedisBackend(parseRedisUri(uri, withTimeout));
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
  checkOptions(options, 'options', REDIS_URI_OPTION_NAMES);
  // WHATWG URL only says "invalid URL" for a bad port: say which rule it breaks first.
  const withoutUser = uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
  const port = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)/i.exec(withoutUser)?.[1];
  if (port !== undefined && port !== '' && !(/^\d+$/.test(port) && Number(port) <= 65_535)) {
    throw new InvalidConnectionStringError(
      uri,
      /^\d+$/.test(port)
        ? `port ${port} is out of range 1–65535`
        : `port "${port}" is not a number`,
    );
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch (error) {
    throw new InvalidConnectionStringError(uri, 'not a valid URL', error);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InvalidConnectionStringError(
      uri,
      'the scheme must be "redis:" or "rediss:" (or "redlock:", "redlocks:", "redis-cluster:", "rediss-cluster:" with openBackend)',
    );
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
  const fromQuery = readQuery(uri, url.searchParams, REDIS_QUERY, url.protocol.slice(0, -1));
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
