import type { LockBackend } from './backend.js';
import {
  BackendError,
  InvalidArgumentError,
  InvalidConnectionStringError,
  isLockError,
  maskSecrets,
  UnsupportedServiceError,
} from './errors.js';
import { checkLockerOptions, createLocker, type Locker } from './locker.js';
import { LOCKER_OPTION_NAMES, type LockerOptions } from './options.js';
import { checkOptions, checkPositive } from './validate.js';

/** What `connect()` tells a backend module when it opens a backend. */
export interface OpenContext {
  /**
   * Milliseconds left of the caller's connect timeout: a backend uses it as its own connect
   * timeout unless the URI or its options set a shorter one.
   */
  readonly connectTimeoutMs: number;
}

/**
 * What a backend package exports for `connect()`: open a backend from a connection string.
 * It checks the URI and every option before any I/O, throwing `InvalidConnectionStringError`
 * for a URI it cannot read and `InvalidArgumentError` for a bad or unknown option, and does no
 * I/O itself: `connect()` then calls the backend's `connect()` unless the user asked for a lazy
 * connection.
 */
export interface BackendModule {
  openBackend(
    uri: string,
    options?: Record<string, unknown>,
    context?: OpenContext,
  ): Promise<LockBackend>;
}

/** Loads the module that serves a scheme. */
export type BackendLoader = () => Promise<BackendModule>;

/** Options of {@link connect}: the locker's options, plus how to reach the backend. */
export interface ConnectOptions extends LockerOptions {
  /** Passed to the backend as is (driver options such as timeouts or TLS); see its README. */
  readonly backend?: Record<string, unknown>;
  /**
   * Longest time the whole of `connect()` may take, in milliseconds: loading the backend's
   * package, opening it, and (unless `lazy`) reaching the server. A backend's own connect
   * timeout (URI `connect-timeout`, its options) may be shorter.
   * @default 10000
   */
  readonly connectTimeout?: number;
  /**
   * Do not reach the server now: `connect()` only checks the URI and options, and the first
   * lock call connects. The same option on every backend.
   * @default false
   */
  readonly lazy?: boolean;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The scheme → package table. Packages are imported only when their scheme is used. */
const PACKAGES: Readonly<Record<string, string>> = {
  local: '@lock/local',
  redis: '@lock/redis',
  rediss: '@lock/redis',
  redlock: '@lock/redis',
  redlocks: '@lock/redis',
  'redis-cluster': '@lock/redis',
  'rediss-cluster': '@lock/redis',
  memcached: '@lock/memcached',
  etcd: '@lock/etcd',
  etcds: '@lock/etcd',
  mongodb: '@lock/docstore/mongodb',
  'mongodb+srv': '@lock/docstore/mongodb',
  dynamodb: '@lock/docstore/dynamodb',
  firestore: '@lock/docstore/firestore',
};

const registered = new Map<string, BackendLoader>();

/**
 * Serves `scheme` with `loader`, for a backend of your own or a test double of a module.
 * Overrides the built-in table for that scheme.
 * @example
 * ```ts
 * registerBackend('mystore', async () => ({ openBackend: async (uri) => new MyBackend(uri) }));
 * const locker = await connect('mystore://db1');
 * ```
 */
export function registerBackend(scheme: string, loader: BackendLoader): void {
  if (typeof scheme !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(scheme)) {
    throw new InvalidArgumentError(
      'scheme',
      scheme,
      'must be a URI scheme such as "mystore" (lower case, no colon)',
    );
  }
  if (typeof loader !== 'function')
    throw new InvalidArgumentError('loader', loader, 'must be a function');
  registered.set(scheme, loader);
}

/** The scheme of `uri` (lower-cased, without the colon). */
export function schemeOf(uri: string): string {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri);
  if (match === null) {
    throw new InvalidConnectionStringError(
      uri,
      'expected "<scheme>:…", such as "local:" or "redis://host:6379"',
    );
  }
  return (match[1] as string).toLowerCase();
}

/**
 * Opens a locker on the backend the URI names, importing that backend's package only now,
 * so nothing else is bundled. Everything is checked before any I/O; then the backend is opened
 * and (unless `lazy`) the server reached with one round trip, all within `connectTimeout`.
 * Schemes: `local:`, `redis://`, `rediss://`, `redlock://h1,h2,h3`, `redis-cluster://h1,h2`,
 * `memcached://`, `etcd://host:2379,host2:2379?dial-timeout=2s`, `mongodb://`, `dynamodb://`,
 * `firestore://`.
 * @throws {InvalidConnectionStringError} for a malformed URI.
 * @throws {InvalidArgumentError} for a bad or unknown option (the locker's or the backend's).
 * @throws {UnsupportedServiceError} for an unknown scheme or a backend package not installed;
 * the message names the package to install.
 * @throws {BackendError} when the server cannot be reached within the timeout, naming the
 * address (never a password), with the driver's error as `cause`.
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * const locker = await connect(process.env.LOCK_URL ?? 'local:', { ttl: 10_000 });
 * ```
 */
export async function connect(uri: string, options: ConnectOptions = {}): Promise<Locker> {
  if (typeof uri !== 'string') throw new InvalidArgumentError('uri', uri, 'must be a string');
  checkOptions(options, 'options', [...LOCKER_OPTION_NAMES, 'backend', 'connectTimeout', 'lazy']);
  const { backend: backendOptions, connectTimeout, lazy, ...lockerOptions } = options;
  checkLockerOptions(lockerOptions);
  if (
    backendOptions !== undefined &&
    (typeof backendOptions !== 'object' || backendOptions === null)
  ) {
    throw new InvalidArgumentError('options.backend', backendOptions, 'must be an object');
  }
  const timeoutMs = connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
  checkPositive(timeoutMs, 'options.connectTimeout');
  if (lazy !== undefined && typeof lazy !== 'boolean') {
    throw new InvalidArgumentError('options.lazy', lazy, 'must be a boolean');
  }
  const scheme = schemeOf(uri);
  const deadline = new Deadline(timeoutMs, uri);
  try {
    const module = await deadline.race(loadModule(scheme));
    const backend = await deadline.race(
      module.openBackend(uri, backendOptions, { connectTimeoutMs: deadline.remainingMs }),
      (late) => late.close(),
    );
    try {
      if (lazy !== true && backend.connect !== undefined) {
        await deadline.race(backend.connect().catch((error: unknown) => failed(uri, error)));
      }
      return createLocker(backend, lockerOptions);
    } catch (error) {
      await backend.close().catch(() => {});
      throw error;
    }
  } finally {
    deadline.dispose();
  }
}

/** The caller's connect timeout, as one deadline over every step of `connect()`. */
class Deadline {
  readonly #end: number;
  readonly #expired: Promise<never>;
  readonly #timer: ReturnType<typeof setTimeout>;

  constructor(ms: number, uri: string) {
    this.#end = performance.now() + ms;
    let expire: (error: unknown) => void = () => {};
    this.#expired = new Promise<never>((_, reject) => {
      expire = reject;
    });
    this.#expired.catch(() => {});
    this.#timer = setTimeout(() => {
      expire(
        new BackendError(
          `connect to ${maskSecrets(uri)} did not complete within ${ms} ms (options.connectTimeout)`,
          { cause: new Error(`no connection within ${ms} ms`) },
        ),
      );
    }, ms);
  }

  /** Milliseconds left. */
  get remainingMs(): number {
    return Math.max(1, Math.round(this.#end - performance.now()));
  }

  /** Settles like `step`, unless the deadline passes first; then `onLate` gets a late result. */
  race<T>(step: Promise<T>, onLate?: (late: T) => unknown): Promise<T> {
    return Promise.race([step, this.#expired]).catch((error: unknown) => {
      if (onLate !== undefined) {
        step.then(
          (late) => Promise.resolve(onLate(late)).catch(() => {}),
          () => {},
        );
      }
      throw error;
    });
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }
}

/** A failed first contact, as a `BackendError` naming the address when the backend did not. */
function failed(uri: string, error: unknown): never {
  if (isLockError(error)) throw error;
  throw new BackendError(`could not reach ${maskSecrets(uri)}`, { cause: error });
}

async function loadModule(scheme: string): Promise<BackendModule> {
  const loader = registered.get(scheme);
  if (loader !== undefined) return loader();
  const packageName = PACKAGES[scheme];
  if (packageName === undefined) throw new UnsupportedServiceError(scheme);
  let module: Partial<BackendModule>;
  try {
    module = (await import(
      /* webpackIgnore: true */ /* @vite-ignore */ packageName
    )) as Partial<BackendModule>;
  } catch (error) {
    if (isLockError(error)) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new UnsupportedServiceError(
        scheme,
        packageName.split('/').slice(0, 2).join('/'),
        error,
      );
    }
    throw error;
  }
  if (typeof module.openBackend !== 'function') {
    throw new UnsupportedServiceError(scheme, packageName);
  }
  return module as BackendModule;
}
