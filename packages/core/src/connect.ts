import type { LockBackend } from './backend.js';
import {
  InvalidArgumentError,
  InvalidConnectionStringError,
  isLockError,
  UnsupportedServiceError,
} from './errors.js';
import { createLocker, type Locker } from './locker.js';
import { LOCKER_OPTION_NAMES, type LockerOptions } from './options.js';
import { checkOptions } from './validate.js';

/**
 * What a backend package exports for `connect()`: open a backend from a connection string.
 * It throws `InvalidConnectionStringError` for a URI it cannot read and `InvalidArgumentError`
 * for an option it does not know.
 */
export interface BackendModule {
  openBackend(uri: string, options?: Record<string, unknown>): Promise<LockBackend>;
}

/** Loads the module that serves a scheme. */
export type BackendLoader = () => Promise<BackendModule>;

/** Options of {@link connect}: the locker's options, plus options for the backend. */
export interface ConnectOptions extends LockerOptions {
  /** Passed to the backend as is (driver options such as timeouts or TLS); see its README. */
  readonly backend?: Record<string, unknown>;
}

/** The scheme → package table. Packages are imported only when their scheme is used. */
const PACKAGES: Readonly<Record<string, string>> = {
  local: '@lock/local',
  redis: '@lock/redis',
  rediss: '@lock/redis',
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
 * so nothing else is bundled. Schemes: `local:`, `redis://`, `rediss://`, `memcached://`,
 * `etcd://host:2379,host2:2379?dial-timeout=2s`, `mongodb://`, `dynamodb://`, `firestore://`.
 * @throws {InvalidConnectionStringError} for a malformed URI.
 * @throws {UnsupportedServiceError} for an unknown scheme or a backend package not installed;
 * the message names the package to install.
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * const locker = await connect(process.env.LOCK_URL ?? 'local:', { ttl: 10_000 });
 * ```
 */
export async function connect(uri: string, options: ConnectOptions = {}): Promise<Locker> {
  if (typeof uri !== 'string') throw new InvalidArgumentError('uri', uri, 'must be a string');
  checkOptions(options, 'options', [...LOCKER_OPTION_NAMES, 'backend']);
  const scheme = schemeOf(uri);
  const { backend: backendOptions, ...lockerOptions } = options;
  if (
    backendOptions !== undefined &&
    (typeof backendOptions !== 'object' || backendOptions === null)
  ) {
    throw new InvalidArgumentError('options.backend', backendOptions, 'must be an object');
  }
  const module = await loadModule(scheme);
  const backend = await module.openBackend(uri, backendOptions);
  try {
    return createLocker(backend, lockerOptions);
  } catch (error) {
    await backend.close();
    throw error;
  }
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
