import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { checkOptions, InvalidArgumentError, InvalidConnectionStringError } from '@lock/core';
import type { RedisClientOptions, RedisClusterOptions } from 'redis';
import { REDIS_URI_OPTION_NAMES, type RedisBackendOptions } from './options.js';
import { REDLOCK_TUNING_OPTION_NAMES, type RedlockOptions } from './redlock-backend.js';
import { decode, queryPairs, REDIS_QUERY, REDLOCK_QUERY, readQuery } from './uri-query.js';

/** One `host:port` of a host list. */
interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** What every multi-host URI has: scheme, credentials, hosts, path and query, read by hand. */
interface MultiHostUri {
  readonly secure: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly hosts: readonly HostPort[];
  readonly path: string;
  readonly query: string;
}

/**
 * Reads `scheme://[user[:password]@]host[:port],host[:port]…[/path][?query]`. WHATWG `URL`
 * cannot parse a comma-separated host list, so this parses by hand. The port defaults to 6379.
 */
function readMultiHostUri(uri: string, plain: string, secure: string): MultiHostUri {
  const match = /^([a-z-]+):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(uri);
  const scheme = match?.[1]?.toLowerCase();
  if (match === null || (scheme !== plain && scheme !== secure)) {
    throw new InvalidConnectionStringError(
      uri,
      `expected "${plain}://host1:6379,host2:6379,…" (or "${secure}://" for TLS)`,
    );
  }
  const hostList = match[3] as string;
  if (hostList === '') throw new InvalidConnectionStringError(uri, 'no host given');
  const hosts = hostList.split(',').map((entry) => {
    const parts = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
    if (parts === null) {
      throw new InvalidConnectionStringError(
        uri,
        `"${entry}" is not a host or host:port (hosts are separated by commas)`,
      );
    }
    const port = parts[2] === undefined ? 6379 : Number(parts[2]);
    if (port < 1 || port > 65_535) {
      throw new InvalidConnectionStringError(uri, `port ${port} is out of range 1–65535`);
    }
    return { host: (parts[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
  });
  const seen = new Set<string>();
  for (const { host, port } of hosts) {
    const id = `${host.toLowerCase()}:${port}`;
    if (seen.has(id)) throw new InvalidConnectionStringError(uri, `${id} is listed twice`);
    seen.add(id);
  }
  let username: string | undefined;
  let password: string | undefined;
  if (match[2] !== undefined) {
    const colon = match[2].indexOf(':');
    const user = decode(uri, colon < 0 ? match[2] : match[2].slice(0, colon));
    username = user === '' ? undefined : user;
    const pass = colon < 0 ? '' : decode(uri, match[2].slice(colon + 1));
    password = pass === '' ? undefined : pass;
  }
  return {
    secure: scheme === secure,
    username,
    password,
    hosts,
    path: match[4] ?? '',
    query: match[5] ?? '',
  };
}

/** Options of `openBackend` that only TLS schemes take. */
interface WithTls {
  readonly tls?: TlsOptions;
}

/** The socket options TLS adds, refusing TLS options for a scheme without TLS. */
function tlsSocket(parsed: MultiHostUri, tls: TlsOptions | undefined, secure: string) {
  if (tls !== undefined && !parsed.secure) {
    throw new InvalidArgumentError('options.tls', tls, `is only allowed with "${secure}://"`);
  }
  return parsed.secure ? { tls: true, ...tls } : {};
}

/** Options `openBackend` takes with `redlock://`. */
const REDLOCK_URI_OPTION_NAMES = [...REDLOCK_TUNING_OPTION_NAMES, 'tls'] as const;

/**
 * Parses `redlock://[[user][:password]@]host1[:port],host2[:port],…[/db][?query]` (or
 * `redlocks://` for TLS) into {@link RedlockOptions}, without connecting. Credentials, the
 * database and TLS apply to every node. Query parameters: `prefix`, `connect-timeout`,
 * `command-timeout`, `check-eviction-policy` (as for `redis://`) and `drift-factor`; those of
 * the fair queue do not apply. `options` (the same names in camelCase, plus `tls` and
 * `onWarning`) win over the query.
 * @throws {InvalidConnectionStringError} for a malformed URI, an even number of hosts or a host
 * listed twice (the password is masked).
 * @throws {InvalidArgumentError} for an option that is unknown or does not apply.
 */
export function parseRedlockUri(
  uri: string,
  options: Record<string, unknown> & WithTls = {},
): RedlockOptions {
  checkOptions(options, 'options', REDLOCK_URI_OPTION_NAMES);
  const parsed = readMultiHostUri(uri, 'redlock', 'redlocks');
  if (parsed.hosts.length % 2 === 0) {
    throw new InvalidConnectionStringError(
      uri,
      `Redlock needs an odd number of independent hosts (such as 3 or 5), got ${parsed.hosts.length}`,
    );
  }
  let database: number | undefined;
  if (parsed.path !== '' && parsed.path !== '/') {
    if (!/^\/\d+$/.test(parsed.path)) {
      throw new InvalidConnectionStringError(
        uri,
        'the path must be a database number, such as "/0"',
      );
    }
    database = Number(parsed.path.slice(1));
  }
  const fromQuery = readQuery(uri, queryPairs(uri, parsed.query), REDLOCK_QUERY, 'redlock');
  const { tls, ...rest } = { ...fromQuery, ...options } as Record<string, unknown> & WithTls;
  const socket = tlsSocket(parsed, tls, 'redlocks');
  const nodes = parsed.hosts.map(
    ({ host, port }): RedisClientOptions => ({
      socket: { host, port, ...socket } as NonNullable<RedisClientOptions['socket']>,
      ...(parsed.username === undefined ? {} : { username: parsed.username }),
      ...(parsed.password === undefined ? {} : { password: parsed.password }),
      ...(database === undefined ? {} : { database }),
    }),
  );
  return { ...(rest as Omit<RedlockOptions, 'nodes'>), nodes };
}

/**
 * Parses `redis-cluster://[[user][:password]@]host1[:port],host2[:port],…[?query]` (or
 * `rediss-cluster://` for TLS) into {@link RedisBackendOptions} for a Cluster client the
 * backend creates and owns, without connecting. The hosts are where the cluster's layout is
 * first read (any reachable master or replica); credentials and TLS apply to every node.
 * Query parameters are those of `redis://`. A Cluster has only database 0.
 * @throws {InvalidConnectionStringError} for a malformed URI (the password is masked).
 * @throws {InvalidArgumentError} for an unknown option.
 */
export function parseRedisClusterUri(
  uri: string,
  options: Record<string, unknown> & WithTls = {},
): RedisBackendOptions {
  checkOptions(options, 'options', REDIS_URI_OPTION_NAMES);
  const parsed = readMultiHostUri(uri, 'redis-cluster', 'rediss-cluster');
  if (parsed.path !== '' && parsed.path !== '/' && parsed.path !== '/0') {
    throw new InvalidConnectionStringError(
      uri,
      'a Redis Cluster has only database 0: leave the path out',
    );
  }
  const fromQuery = readQuery(uri, queryPairs(uri, parsed.query), REDIS_QUERY, 'redis-cluster');
  const { tls, ...rest } = { ...fromQuery, ...options } as Record<string, unknown> & WithTls;
  const socket = tlsSocket(parsed, tls, 'rediss-cluster');
  const clusterOptions: RedisClusterOptions = {
    rootNodes: parsed.hosts.map(({ host, port }) => ({
      socket: { host, port } as NonNullable<RedisClientOptions['socket']>,
    })),
    defaults: {
      socket: socket as NonNullable<RedisClientOptions['socket']>,
      ...(parsed.username === undefined ? {} : { username: parsed.username }),
      ...(parsed.password === undefined ? {} : { password: parsed.password }),
    },
  };
  return { ...(rest as Omit<RedisBackendOptions, 'clusterOptions'>), clusterOptions };
}
