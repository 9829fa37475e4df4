/**
 * Reads `memcached://` connection strings and `"host:port"` server strings.
 * @module
 */
import { InvalidConnectionStringError, isLockError } from '@lock/core';
import {
  checkBackendOptions,
  type MemcachedBackendOptions,
  type ServerAddress,
  UNSUPPORTED_OPTIONS,
} from './options.js';

/** What a connection string says. */
export interface ParsedUri {
  /** The servers, in order (order decides which server holds which key). */
  readonly servers: readonly ServerAddress[];
  /** SASL user name, percent-decoded. */
  readonly username: string | undefined;
  /** SASL password, percent-decoded. */
  readonly password: string | undefined;
  /** Options from the query string. */
  readonly options: Partial<MemcachedBackendOptions>;
}

const NUMBER_PARAMS = [
  'timeout',
  'connectTimeout',
  'retries',
  'retry',
  'keepAliveDelay',
  'poolSize',
  'operationTimeout',
] as const;

const EXAMPLE = 'expected "memcached://[user:pass@]host[:port][,host[:port]…][?timeout=1000&…]"';

/**
 * Parses `memcached://[user:pass@]host[:port][,host[:port]…][?name=value&…]`. Query names are
 * the option names of {@link MemcachedBackendOptions} (`timeout`, `connectTimeout`, `retries`,
 * `retry`, `keepAlive`, `keepAliveDelay`, `poolSize`, `operationTimeout`, `keyPrefix`), in ms.
 * @throws {InvalidConnectionStringError} naming the rule broken; the password is masked.
 * @example
 * ```ts
 * parseUri('memcached://app:s3cret@10.0.0.1:11211,10.0.0.2?timeout=500');
 * ```
 */
export function parseUri(uri: string): ParsedUri {
  const match = /^memcached:\/\/([^/?#]*)\/?(?:\?([^#]*))?$/i.exec(uri);
  if (match === null) throw new InvalidConnectionStringError(uri, EXAMPLE);
  const authority = match[1] as string;
  const at = authority.lastIndexOf('@');
  let username: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    const colon = userInfo.indexOf(':');
    username = decode(uri, colon < 0 ? userInfo : userInfo.slice(0, colon), 'user name');
    password = colon < 0 ? undefined : decode(uri, userInfo.slice(colon + 1), 'password');
    if (username === '' || password === undefined || password === '') {
      throw new InvalidConnectionStringError(
        uri,
        'SASL credentials need both a user name and a password ("user:pass@host")',
      );
    }
  }
  const hosts = authority.slice(at + 1);
  if (hosts === '') throw new InvalidConnectionStringError(uri, `no host: ${EXAMPLE}`);
  const servers = hosts.split(',').map((part) => {
    try {
      return parseServer(part);
    } catch (error) {
      throw new InvalidConnectionStringError(uri, (error as Error).message);
    }
  });
  const options = parseQuery(uri, match[2] ?? '');
  return { servers, username, password, options };
}

/**
 * Parses one `"host[:port]"` (IPv6 as `"[::1]:11211"`).
 * @throws {Error} with a message saying what is wrong (callers wrap it).
 */
export function parseServer(text: string): ServerAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s/]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (match === null) throw new Error(`"${text}" is not "host[:port]"`);
  const port = match[3] === undefined ? 11211 : Number(match[3]);
  if (port < 1 || port > 65_535) throw new Error(`port ${port} of "${text}" is not in 1..65535`);
  return { host: (match[1] ?? match[2]) as string, port };
}

function parseQuery(uri: string, query: string): Partial<MemcachedBackendOptions> {
  const options: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (name in options) throw new InvalidConnectionStringError(uri, `"${name}" is given twice`);
    const unsupported = UNSUPPORTED_OPTIONS[name];
    if (unsupported !== undefined) {
      throw new InvalidConnectionStringError(uri, `option "${name}" ${unsupported}`);
    }
    if ((NUMBER_PARAMS as readonly string[]).includes(name)) {
      const number = Number(value);
      if (value.trim() === '' || !Number.isFinite(number)) {
        throw new InvalidConnectionStringError(
          uri,
          `option "${name}" must be a number of ms, got "${value}"`,
        );
      }
      options[name] = number;
    } else if (name === 'keepAlive') {
      if (value !== 'true' && value !== 'false') {
        throw new InvalidConnectionStringError(
          uri,
          `option "keepAlive" must be true or false, got "${value}"`,
        );
      }
      options[name] = value === 'true';
    } else if (name === 'keyPrefix') {
      options[name] = value;
    } else {
      throw new InvalidConnectionStringError(
        uri,
        `unknown query parameter "${name}" (known: ${[...NUMBER_PARAMS, 'keepAlive', 'keyPrefix'].join(', ')})`,
      );
    }
  }
  try {
    checkBackendOptions({ ...options, host: 'checked-separately' }, 'uri');
  } catch (error) {
    if (isLockError(error)) throw new InvalidConnectionStringError(uri, error.message, error);
    throw error;
  }
  return options as Partial<MemcachedBackendOptions>;
}

function decode(uri: string, text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw new InvalidConnectionStringError(uri, `the ${what} is not valid percent-encoding`, error);
  }
}
