/**
 * Options of the memcached backend: their types, their checks, and how they map onto memjs.
 * @module
 */
import { checkOptions, InvalidArgumentError } from '@lock/core';
import type { Client } from 'memjs';
import { checkPrefix } from './keys.js';

/** One memcached server. */
export interface ServerAddress {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port. @default 11211 */
  readonly port: number;
}

/**
 * Options of {@link MemcachedBackend}. Give exactly one of `client`, `servers`, `uri` or `host`.
 * Durations are in milliseconds, as in pip-services' memcached options; they are converted to
 * the seconds memjs wants. Options memjs cannot honour ({@link UNSUPPORTED_OPTIONS}) are
 * rejected with an `InvalidArgumentError` naming them.
 * @example
 * ```ts
 * new MemcachedBackend({
 *   servers: ['10.0.0.1:11211', '10.0.0.2:11211'],
 *   username: 'app',
 *   password: process.env['MEMCACHED_PASSWORD'] as string,
 *   keyPrefix: 'billing-locks:',
 *   timeout: 500,
 *   retries: 1,
 * });
 * ```
 */
export interface MemcachedBackendOptions {
  /**
   * A memjs client you created. You keep ownership: `close()` does not close it. Its own
   * timeouts and retries apply; connection options here are rejected alongside it.
   */
  readonly client?: Client;
  /**
   * Servers as `"host:port"` strings (or one comma-separated string). Keys are spread over
   * them by memjs's hash, so every process must list the same servers in the same order.
   */
  readonly servers?: string | readonly string[];
  /** A `memcached://[user:pass@]host:port[,host:port…][?option=value…]` connection string. */
  readonly uri?: string;
  /** One server's host (pip-services `host`). */
  readonly host?: string;
  /** That server's port (pip-services `port`). @default 11211 */
  readonly port?: number;
  /** SASL user name (the server must run with `-S`). */
  readonly username?: string;
  /** SASL password. Never appears in messages. */
  readonly password?: string;
  /**
   * Prefix of every key this backend writes, so locks can share a server with other data.
   * @default "lock:"
   */
  readonly keyPrefix?: string;
  /**
   * How long one request may wait for its reply before memjs drops the connection (memjs
   * `timeout`, pip-services `timeout`), in ms. The request's outcome is then unknown.
   * @default 1000
   */
  readonly timeout?: number;
  /** How long opening a connection may take (memjs `conntimeout`), in ms. @default 2000 */
  readonly connectTimeout?: number;
  /**
   * Retries after an attempt whose connection failed (pip-services `retries`; memjs counts
   * attempts, so it gets `retries + 1`). Only reads and whole acquire attempts are retried, by
   * this package; a CAS-guarded extend or release is never sent twice (see the README).
   * @default 1
   */
  readonly retries?: number;
  /** Pause before each retry (pip-services `retry`; memjs `retry_delay`), in ms. @default 100 */
  readonly retry?: number;
  /** Enable TCP keep-alive on the connections (memjs `keepAlive`). @default false */
  readonly keepAlive?: boolean;
  /** Idle time before the first keep-alive probe (memjs `keepAliveDelay`), in ms. @default 30000 */
  readonly keepAliveDelay?: number;
  /**
   * Connections per server (pip-services `pool_size`). memjs keeps exactly one, so only 1 is
   * accepted.
   * @default 1
   */
  readonly poolSize?: number;
  /**
   * Hard deadline for each request sent to memcached, in ms, kept by this package's own clock
   * so that no call can hang even if memjs's `timeout` does not fire. A call makes one request
   * (acquire, a release or extend by this process's holder), two (a read first), more when it
   * retries, or, when the item keeps changing, up to eight.
   * @default 5000
   */
  readonly operationTimeout?: number;
}

/**
 * pip-services memcached options that memjs cannot honour, with the reason given when they are
 * passed. They are rejected rather than ignored.
 */
export const UNSUPPORTED_OPTIONS: Readonly<Record<string, string>> = {
  reconnect: 'is not supported: memjs reconnects on the next request and has no reconnect interval',
  failures:
    'is not supported: memjs has no dead-server counter (and moving keys to another server would break lock exclusivity)',
  idle: 'is not supported: memjs has no idle timeout (use keepAlive/keepAliveDelay)',
  remove:
    'is not supported: memjs cannot drop a dead server (that would move locks to another server)',
  failover:
    'is not supported: failing over moves keys to another server while the first may still hold them, which breaks exclusivity',
  pool_size: 'is not supported: use poolSize',
};

/** Connection options (conflict with `client`). */
const CONNECTION_OPTIONS = [
  'username',
  'password',
  'timeout',
  'connectTimeout',
  'retries',
  'retry',
  'keepAlive',
  'keepAliveDelay',
  'poolSize',
] as const;

/** Every option name {@link MemcachedBackendOptions} knows. */
export const OPTION_NAMES: readonly string[] = [
  'client',
  'servers',
  'uri',
  'host',
  'port',
  'keyPrefix',
  'operationTimeout',
  ...CONNECTION_OPTIONS,
];

/** The memjs options this package sets on clients it creates. */
export interface MemjsOptions {
  readonly timeout: number;
  readonly conntimeout: number;
  readonly retries: number;
  readonly retry_delay: number;
  readonly keepAlive: boolean;
  readonly keepAliveDelay: number;
  readonly failover: false;
  readonly logger: { log(...args: unknown[]): void };
}

/**
 * Throws {@link InvalidArgumentError} for an unknown, unsupported or badly typed option, naming
 * it under `name` (such as `options` or `options.backend`).
 */
export function checkBackendOptions(options: unknown, name: string): void {
  if (options !== null && typeof options === 'object' && !Array.isArray(options)) {
    for (const [key, value] of Object.entries(options)) {
      // Never echo a string under an unknown name: it may be a misspelt password.
      const shown = typeof value === 'string' ? '***' : value;
      const reason = UNSUPPORTED_OPTIONS[key];
      if (reason !== undefined) throw new InvalidArgumentError(`${name}.${key}`, shown, reason);
      if (!OPTION_NAMES.includes(key)) {
        throw new InvalidArgumentError(
          `${name}.${key}`,
          shown,
          `is not a known option (known: ${OPTION_NAMES.join(', ')})`,
        );
      }
    }
  }
  checkOptions(options, name, OPTION_NAMES);
  const o = (options ?? {}) as MemcachedBackendOptions;
  const sources = (['client', 'servers', 'uri', 'host'] as const).filter((k) => o[k] !== undefined);
  if (sources.length !== 1) {
    throw new InvalidArgumentError(
      name,
      options,
      `must give exactly one of client, servers, uri or host (gave ${sources.length === 0 ? 'none' : sources.join(', ')})`,
    );
  }
  if (o.client !== undefined) {
    const client = o.client as unknown as Record<string, unknown>;
    if (typeof client !== 'object' || client === null || typeof client['perform'] !== 'function') {
      throw new InvalidArgumentError(`${name}.client`, o.client, 'must be a memjs Client');
    }
    const clientOptions = client['options'] as { failover?: unknown } | undefined;
    if (clientOptions?.failover) {
      throw new InvalidArgumentError(
        `${name}.client`,
        o.client,
        `must not fail over (its options.failover is true): ${UNSUPPORTED_OPTIONS['failover']?.replace('is not supported: ', '')}`,
      );
    }
    const conflicting = CONNECTION_OPTIONS.filter((k) => o[k] !== undefined);
    if (conflicting.length > 0) {
      throw new InvalidArgumentError(
        `${name}.${conflicting[0]}`,
        o[conflicting[0] as keyof MemcachedBackendOptions],
        'cannot be combined with client: configure your memjs client instead',
      );
    }
  }
  if (o.port !== undefined && o.host === undefined) {
    throw new InvalidArgumentError(`${name}.port`, o.port, 'needs host');
  }
  if (o.host !== undefined) checkString(o.host, `${name}.host`);
  if (o.port !== undefined) checkPort(o.port, `${name}.port`);
  if (o.uri !== undefined) checkString(o.uri, `${name}.uri`);
  if (o.servers !== undefined) {
    const list = typeof o.servers === 'string' ? [o.servers] : o.servers;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.some((s) => typeof s !== 'string' || s === '')
    ) {
      throw new InvalidArgumentError(
        `${name}.servers`,
        o.servers,
        'must be a non-empty list of "host:port" strings',
      );
    }
  }
  if (o.username !== undefined) checkString(o.username, `${name}.username`);
  if (o.password !== undefined && typeof o.password !== 'string') {
    throw new InvalidArgumentError(`${name}.password`, '***', 'must be a string');
  }
  if ((o.username === undefined) !== (o.password === undefined)) {
    throw new InvalidArgumentError(
      `${name}.${o.username === undefined ? 'username' : 'password'}`,
      undefined,
      'must be given together with the other SASL credential',
    );
  }
  if (o.keyPrefix !== undefined) checkPrefix(o.keyPrefix, `${name}.keyPrefix`);
  for (const k of ['timeout', 'connectTimeout', 'keepAliveDelay', 'operationTimeout'] as const) {
    const value = o[k];
    if (
      value !== undefined &&
      !(typeof value === 'number' && Number.isFinite(value) && value > 0)
    ) {
      throw new InvalidArgumentError(`${name}.${k}`, value, 'must be a finite number of ms > 0');
    }
  }
  for (const k of ['retries', 'retry'] as const) {
    const value = o[k];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) {
      throw new InvalidArgumentError(`${name}.${k}`, value, 'must be an integer >= 0');
    }
  }
  if (o.keepAlive !== undefined && typeof o.keepAlive !== 'boolean') {
    throw new InvalidArgumentError(`${name}.keepAlive`, o.keepAlive, 'must be a boolean');
  }
  if (o.poolSize !== undefined && o.poolSize !== 1) {
    throw new InvalidArgumentError(
      `${name}.poolSize`,
      o.poolSize,
      'must be 1: memjs keeps one connection per server',
    );
  }
}

/** The memjs client options for `options` (already checked), with this package's defaults. */
export function memjsOptions(options: MemcachedBackendOptions): MemjsOptions {
  return {
    timeout: (options.timeout ?? 1000) / 1000,
    conntimeout: (options.connectTimeout ?? 2000) / 1000,
    // memjs counts attempts and reads 0 as "use the default", so retries n → n + 1 attempts.
    retries: (options.retries ?? 1) + 1,
    retry_delay: (options.retry ?? 100) / 1000,
    keepAlive: options.keepAlive ?? false,
    keepAliveDelay: (options.keepAliveDelay ?? 30_000) / 1000,
    failover: false,
    // memjs logs every failure to the console; this package reports them as BackendErrors.
    logger: { log() {} },
  };
}

function checkString(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(name, value, 'must be a non-empty string');
  }
}

/** Throws unless `port` is an integer TCP port. */
export function checkPort(port: unknown, name: string): asserts port is number {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65_535) {
    throw new InvalidArgumentError(name, port, 'must be an integer port in 1..65535');
  }
}
