import { InvalidConnectionStringError } from '@lock/core';
import { parseDuration } from './duration.js';
import type { EtcdBackendOptions } from './options.js';

/** Query parameters an `etcd://` connection string accepts. */
export const URI_PARAMETERS = [
  'dial-timeout',
  'request-timeout',
  'keep-alive-time',
  'keep-alive-timeout',
  'auto-sync-interval',
  'reject-old-cluster',
  'username',
  'password',
  'prefix',
] as const;

/**
 * Reads `etcd://[user:password@]host1:2379,host2:2379[/prefix]?dial-timeout=2s&…` (or
 * `etcds://` for TLS; `etcd:host:2379,host2:2379?…` without the slashes, as src-d's lock service
 * writes it, is read the same) into backend options. WHATWG `URL` cannot parse a comma-separated host
 * list, so this parses by hand. Options etcd's Go client has but `etcd3` does not
 * (`auto-sync-interval`, `reject-old-cluster`) are accepted only when they ask for nothing.
 * @throws {InvalidConnectionStringError} for a malformed URI (any password masked).
 * @throws {InvalidConnectionStringError} for an unknown or unsupported parameter too.
 */
export function parseEtcdUri(uri: string): EtcdBackendOptions {
  // `etcd:host:2379,host2:2379?…` (src-d's lock service) is read as `etcd://host:2379,…`.
  const match = /^(etcds?):(?:\/\/)?(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(uri);
  if (match === null) {
    throw new InvalidConnectionStringError(
      uri,
      'expected "etcd://host:2379,host2:2379?dial-timeout=2s" (or "etcds://" for TLS)',
    );
  }
  const secure = (match[1] as string).toLowerCase() === 'etcds';
  const scheme = secure ? 'https' : 'http';
  const hostList = match[3] as string;
  if (hostList === '') throw new InvalidConnectionStringError(uri, 'no host given');
  const hosts = hostList.split(',').map((host) => {
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) {
      throw new InvalidConnectionStringError(uri, `"${host}" is not a host or host:port`);
    }
    const port = /:(\d+)$/.exec(host.replace(/^\[.*\]/, ''))?.[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
      throw new InvalidConnectionStringError(uri, `port ${port} is out of range 1–65535`);
    }
    return `${scheme}://${port === undefined ? `${host}:2379` : host}`;
  });
  const options: {
    -readonly [K in keyof EtcdBackendOptions]: EtcdBackendOptions[K];
  } = { hosts };
  let username: string | undefined;
  let password: string | undefined;
  if (match[2] !== undefined) {
    const [user, ...rest] = match[2].split(':');
    username = decode(uri, user as string);
    password = rest.length > 0 ? decode(uri, rest.join(':')) : undefined;
  }
  const path = match[4];
  if (path !== undefined && path !== '/') options.prefix = decode(uri, path.slice(1));
  for (const pair of (match[5] ?? '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(uri, eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(uri, pair.slice(eq + 1));
    switch (name) {
      case 'dial-timeout':
        options.dialTimeoutMs = duration(uri, name, value);
        break;
      case 'request-timeout':
        options.requestTimeoutMs = duration(uri, name, value);
        break;
      case 'keep-alive-time':
        options.keepAliveTimeMs = duration(uri, name, value);
        break;
      case 'keep-alive-timeout':
        options.keepAliveTimeoutMs = duration(uri, name, value);
        break;
      case 'auto-sync-interval':
        if (duration(uri, name, value, true) !== 0) {
          throw new InvalidConnectionStringError(
            uri,
            `query parameter "auto-sync-interval" is not supported: the etcd3 driver does not sync the member list (list every member in the URI instead; 0 is accepted), got "${value}"`,
          );
        }
        break;
      case 'reject-old-cluster':
        if (!['false', '0', ''].includes(value.toLowerCase())) {
          throw new InvalidConnectionStringError(
            uri,
            `query parameter "reject-old-cluster" is not supported: the etcd3 driver does not check the cluster version (false is accepted), got "${value}"`,
          );
        }
        break;
      case 'username':
        username = value;
        break;
      case 'password':
        password = value;
        break;
      case 'prefix':
        options.prefix = value;
        break;
      default:
        throw new InvalidConnectionStringError(
          uri,
          `unknown query parameter "${name}" (known: ${URI_PARAMETERS.join(', ')})`,
        );
    }
  }
  if (password !== undefined && username === undefined) {
    throw new InvalidConnectionStringError(uri, 'a password needs a username');
  }
  if (username !== undefined) options.auth = { username, password: password ?? '' };
  return options;
}

function decode(uri: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw new InvalidConnectionStringError(uri, 'bad percent-encoding', error);
  }
}

function duration(uri: string, name: string, value: string, allowZero = false): number {
  const ms = parseDuration(value);
  if (ms === undefined || (ms === 0 && !allowZero)) {
    throw new InvalidConnectionStringError(
      uri,
      `${name} must be a duration such as "500ms" or "2s", got "${value}"`,
    );
  }
  return ms;
}
