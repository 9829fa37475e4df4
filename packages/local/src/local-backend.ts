import {
  type AcquireRequest,
  type AcquireResult,
  type BackendLockInfo,
  type BackendSemaphoreInfo,
  type Clock,
  checkOptions,
  type ExtendRequest,
  InvalidConnectionStringError,
  type LockBackend,
  LockClosedError,
  type OwnerCheckedResult,
  type QueuedAcquireOptions,
  type QueuedGrant,
  type ReleaseRequest,
  type SemaphoreAcquireRequest,
  type SemaphoreAcquireResult,
  type SemaphoreOwnerResult,
  systemClock,
  type Unsubscribe,
} from '@lock/core';
import { LocalStore } from './local-store.js';

/** Options of {@link LocalBackend}. */
export interface LocalBackendOptions {
  /**
   * The lock table to use. Backends sharing a store contend for the same keys.
   * @default a new private store
   */
  readonly store?: LocalStore;
  /**
   * Time source for TTLs; pass the same `ManualClock` as the locker in deterministic tests.
   * Ignored when `store` is given (the store has its clock).
   * @default systemClock
   */
  readonly clock?: Clock;
}

/**
 * In-process locks: the embedded default, with no dependencies. Waiters queue first-come,
 * first-served and are handed the lock directly on release or expiry, with no polling.
 * Locks are shared only inside this process (between lockers on the same {@link LocalStore}).
 * @example
 * ```ts
 * import { createLocker } from '@lock/core';
 * import { LocalBackend } from '@lock/local';
 *
 * const locker = createLocker(new LocalBackend());
 * await locker.withLock('job', async () => console.log('exclusive'));
 * await locker.close();
 * ```
 */
export class LocalBackend implements LockBackend {
  readonly name = 'local';
  /** The lock table this backend works on. */
  readonly store: LocalStore;
  readonly #waits = new Set<() => void>();
  #closed = false;

  constructor(options: LocalBackendOptions = {}) {
    checkOptions(options, 'options', ['store', 'clock']);
    this.store = options.store ?? new LocalStore(options.clock ?? systemClock);
  }

  async acquire({ key, owner, ttlMs }: AcquireRequest): Promise<AcquireResult> {
    this.#assertOpen();
    const taken = this.store.tryTake(key, owner, ttlMs);
    if ('fence' in taken) return { acquired: true, fence: taken.fence };
    const holding = taken.holding;
    return {
      acquired: false,
      holder: holding?.owner,
      remainingMs: holding && Math.max(0, holding.expiresAt - this.store.clock.now()),
    };
  }

  acquireQueued(
    { key, owner, ttlMs }: AcquireRequest,
    { signal }: QueuedAcquireOptions,
  ): Promise<QueuedGrant> {
    this.#assertOpen();
    return new Promise<QueuedGrant>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      let dequeue = () => {};
      const leave = () => {
        dequeue();
        signal.removeEventListener('abort', onAbort);
        this.#waits.delete(onClose);
      };
      const onAbort = () => {
        leave();
        reject(signal.reason);
      };
      const onClose = () => {
        leave();
        reject(new LockClosedError('local backend'));
      };
      dequeue = this.store.enqueue(key, {
        owner,
        ttlMs,
        grant: (fence, sentAt) => {
          leave();
          resolve({ acquired: true, fence, sentAt });
        },
      });
      if (!signal.aborted) {
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waits.add(onClose);
      }
    });
  }

  async extend({ key, owner, ttlMs }: ExtendRequest): Promise<OwnerCheckedResult> {
    this.#assertOpen();
    return this.store.extend(key, owner, ttlMs);
  }

  async extendMany(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    this.#assertOpen();
    return requests.map(({ key, owner, ttlMs }) => this.store.extend(key, owner, ttlMs));
  }

  async release({ key, owner }: ReleaseRequest): Promise<OwnerCheckedResult> {
    this.#assertOpen();
    return this.store.release(key, owner);
  }

  async inspect(key: string): Promise<BackendLockInfo | undefined> {
    this.#assertOpen();
    const holding = this.store.inspect(key);
    if (holding === undefined) return undefined;
    return {
      owner: holding.owner,
      remainingMs: Math.max(0, holding.expiresAt - this.store.clock.now()),
      fence: holding.fence,
    };
  }

  /** Semaphores natively: core's rules on the store's table, in one synchronous step. */
  async semaphoreAcquire(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult> {
    this.#assertOpen();
    return this.store.semaphore(request.key, { op: 'acquire', request });
  }

  async semaphoreExtend({ key, owner, ttlMs }: ExtendRequest): Promise<SemaphoreOwnerResult> {
    this.#assertOpen();
    return this.store.semaphore(key, { op: 'extend', owner, ttlMs });
  }

  async semaphoreExtendMany(requests: readonly ExtendRequest[]): Promise<SemaphoreOwnerResult[]> {
    this.#assertOpen();
    return requests.map(({ key, owner, ttlMs }) =>
      this.store.semaphore(key, { op: 'extend', owner, ttlMs }),
    );
  }

  async semaphoreRelease({ key, owner }: ReleaseRequest): Promise<SemaphoreOwnerResult> {
    this.#assertOpen();
    return this.store.semaphore(key, { op: 'release', owner });
  }

  async semaphoreInspect(key: string): Promise<BackendSemaphoreInfo | undefined> {
    this.#assertOpen();
    return this.store.inspectSemaphore(key);
  }

  watch(key: string, onChange: () => void): Unsubscribe {
    this.#assertOpen();
    return this.store.listen(key, onChange);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const onClose of [...this.#waits]) onClose();
  }

  #assertOpen(): void {
    if (this.#closed) throw new LockClosedError('local backend');
  }
}

const NAMED_STORES = Symbol.for('@lock/local.stores');

/**
 * The process-wide store called `name`, created on first use. Kept on `globalThis` so that two
 * copies of this package in one process still share it.
 */
export function namedStore(name: string): LocalStore {
  const holder = globalThis as Record<symbol, Map<string, LocalStore> | undefined>;
  const registry = holder[NAMED_STORES] ?? new Map<string, LocalStore>();
  holder[NAMED_STORES] = registry;
  let store = registry.get(name);
  if (store === undefined) {
    store = new LocalStore(systemClock);
    registry.set(name, store);
  }
  return store;
}

/**
 * Opens a backend for `connect()`: `local:` is the process-wide default store, `local:name`
 * (or `local://name`) a named one. No options are accepted.
 */
export async function openBackend(
  uri: string,
  options?: Record<string, unknown>,
): Promise<LockBackend> {
  checkOptions(options, 'options.backend', []);
  const match = /^local:(?:\/\/)?([A-Za-z0-9._-]*)$/i.exec(uri);
  if (match === null) {
    throw new InvalidConnectionStringError(
      uri,
      'expected "local:" or "local:<name>" (letters, digits, ".", "_", "-")',
    );
  }
  return new LocalBackend({ store: namedStore(match[1] || 'default') });
}
