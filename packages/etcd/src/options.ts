import { checkOptions, InvalidArgumentError } from '@lock/core';
import type { Etcd3 } from 'etcd3';

/** TLS material for `https://` endpoints (etcd's `--trusted-ca-file`, client cert and key). */
export interface EtcdTlsOptions {
  /** PEM of the CA that signed the servers' certificates. */
  readonly rootCertificate: Buffer;
  /** PEM of this client's private key, for client-certificate auth. */
  readonly privateKey?: Buffer;
  /** PEM of this client's certificate chain, for client-certificate auth. */
  readonly certChain?: Buffer;
}

/** Options of {@link EtcdBackend}. */
export interface EtcdBackendOptions {
  /**
   * Endpoints of the cluster members, `http://host:port` (or `https://` for TLS). Calls go to a
   * random member and fail over to the next one when a member is down.
   * @default "http://127.0.0.1:2379"
   */
  readonly hosts?: string | readonly string[];
  /**
   * An `etcd3` client of your own. The backend never closes it; `hosts`, `auth`, `tls`,
   * `dialTimeoutMs` and the keep-alive options are then ignored (the client has its own).
   */
  readonly client?: Etcd3;
  /**
   * Namespace of every key this backend writes. Backends with the same prefix share locks.
   * @default "lock/"
   */
  readonly prefix?: string;
  /** User name and password, for a cluster with `auth enable`. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** TLS material; without it `https://` endpoints use the system's CAs. */
  readonly tls?: EtcdTlsOptions;
  /**
   * Longest wait for a call while no connection to the cluster has been made yet, in ms.
   * @default 2000
   */
  readonly dialTimeoutMs?: number;
  /**
   * Deadline of every call once connected, in ms (our own timer, plus a gRPC deadline).
   * @default 5000
   */
  readonly requestTimeoutMs?: number;
  /**
   * gRPC keep-alive ping interval on idle connections, in ms (etcd's server refuses pings
   * more often than its `--grpc-keepalive-min-time`, 5 s by default).
   * @default off
   */
  readonly keepAliveTimeMs?: number;
  /**
   * How long a gRPC keep-alive ping may go unanswered before the connection is dropped, in ms.
   * @default 20000 (gRPC's)
   */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Safety re-check while waiting in a lock's queue, in ms, in case a watch event is lost.
   * @default 5000
   */
  readonly queuePollIntervalMs?: number;
}

/** {@link EtcdBackendOptions} with defaults applied. */
export interface ResolvedOptions {
  readonly hosts: string[];
  readonly client: Etcd3 | undefined;
  readonly prefix: string;
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  readonly tls: EtcdTlsOptions | undefined;
  readonly dialTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeMs: number | undefined;
  readonly keepAliveTimeoutMs: number | undefined;
  readonly queuePollIntervalMs: number;
}

/** Option names {@link EtcdBackendOptions} accepts. */
export const ETCD_OPTION_NAMES = [
  'hosts',
  'client',
  'prefix',
  'auth',
  'tls',
  'dialTimeoutMs',
  'requestTimeoutMs',
  'keepAliveTimeMs',
  'keepAliveTimeoutMs',
  'queuePollIntervalMs',
] as const;

/** Checks `options` (unknown names, types, ranges) and fills in the defaults. */
export function resolveOptions(options: EtcdBackendOptions = {}): ResolvedOptions {
  checkOptions(options, 'options', ETCD_OPTION_NAMES);
  const hosts = options.hosts ?? 'http://127.0.0.1:2379';
  const list = typeof hosts === 'string' ? [hosts] : [...hosts];
  if (list.length === 0 || list.some((h) => typeof h !== 'string' || !/^https?:\/\/./.test(h))) {
    throw new InvalidArgumentError(
      'options.hosts',
      hosts,
      'must be one or more "http://host:port" or "https://host:port" endpoints',
    );
  }
  if (new Set(list.map((h) => h.startsWith('https:'))).size > 1) {
    throw new InvalidArgumentError('options.hosts', hosts, 'must not mix http:// and https://');
  }
  const prefix = options.prefix ?? 'lock/';
  if (typeof prefix !== 'string') {
    throw new InvalidArgumentError('options.prefix', prefix, 'must be a string');
  }
  if (options.auth !== undefined) {
    checkOptions(options.auth, 'options.auth', ['username', 'password']);
    if (typeof options.auth.username !== 'string' || typeof options.auth.password !== 'string') {
      // Never echo the password: describe the object, not its fields.
      throw new InvalidArgumentError(
        'options.auth',
        {},
        'must be { username: string, password: string }',
      );
    }
  }
  if (options.tls !== undefined) {
    checkOptions(options.tls, 'options.tls', ['rootCertificate', 'privateKey', 'certChain']);
    if (!Buffer.isBuffer(options.tls.rootCertificate)) {
      throw new InvalidArgumentError('options.tls.rootCertificate', {}, 'must be a Buffer (PEM)');
    }
  }
  if (
    options.client !== undefined &&
    (typeof options.client !== 'object' || options.client === null)
  ) {
    throw new InvalidArgumentError('options.client', options.client, 'must be an Etcd3 client');
  }
  return {
    hosts: list,
    client: options.client,
    prefix,
    auth: options.auth,
    tls: options.tls,
    dialTimeoutMs: positive(options.dialTimeoutMs, 'options.dialTimeoutMs', 2_000),
    requestTimeoutMs: positive(options.requestTimeoutMs, 'options.requestTimeoutMs', 5_000),
    keepAliveTimeMs: optionalPositive(options.keepAliveTimeMs, 'options.keepAliveTimeMs'),
    keepAliveTimeoutMs: optionalPositive(options.keepAliveTimeoutMs, 'options.keepAliveTimeoutMs'),
    queuePollIntervalMs: positive(
      options.queuePollIntervalMs,
      'options.queuePollIntervalMs',
      5_000,
    ),
  };
}

function positive(value: unknown, name: string, fallback: number): number {
  return optionalPositive(value, name) ?? fallback;
}

function optionalPositive(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(name, value, 'must be a finite number > 0 (milliseconds)');
  }
  return value;
}
