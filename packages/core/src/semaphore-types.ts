/**
 * The public shape of semaphores and read-write locks: `locker.semaphore(key, { permits })` and
 * `locker.readWriteLock(key)`. Their handles are lock handles (`signal`, `held`, `assertHeld()`,
 * `extend()`, `release()`, `await using`, keepalive, `fence`), kept alive and watched by the same
 * machinery as a mutex.
 * @module
 */
import type { SemaphoreKind, SemaphoreMode } from './backend.js';
import type { LockHandle } from './lock-handle.js';
import type { LockOptions, TryLockOptions } from './options.js';

/** Options of `locker.semaphore(key, options)`. */
export interface SemaphoreOptions {
  /**
   * How many permits the key has: an integer in `1..MAX_PERMITS` (10,000). Fixed while the key
   * has holders or waiters: a call with another count then fails with `InvalidArgumentError`
   * naming both counts. Once the key is idle, the next acquire may set a new count.
   */
  readonly permits: number;
}

/** Options of one `semaphore.tryAcquire()`. */
export interface TryAcquireOptions extends TryLockOptions {
  /**
   * Permits to take: an integer in `1..permits`.
   * @default 1
   */
  readonly count?: number;
}

/** Options of one blocking `semaphore.acquire()`. */
export interface AcquireOptions extends LockOptions {
  /**
   * Permits to take: an integer in `1..permits`. A waiter asking for many is never passed by
   * later callers asking for few (first come, first served).
   * @default 1
   */
  readonly count?: number;
}

/** A held part of a semaphore or read-write lock: a lock handle that also says how much it holds. */
export interface PermitHandle extends LockHandle {
  /** Permits held (a read of a read-write lock: 1; a write: all of them). */
  readonly count: number;
  /** `'permit'` for a semaphore, `'read'` or `'write'` for a read-write lock. */
  readonly mode: SemaphoreMode;
}

/** One holder, as `inspect()` reports it (never its secret owner token). */
export interface SemaphoreHolderInfo {
  /** Public identity of the holder's locker. */
  readonly holder: string;
  /** Permits it holds. */
  readonly count: number;
  /** `'permit'`, `'read'` or `'write'`. */
  readonly mode: SemaphoreMode;
  /** Its grant's fence. */
  readonly fence: number;
  /** Milliseconds it still has, when the backend can tell. */
  readonly remainingMs: number | undefined;
}

/** What `semaphore.inspect()` / `readWriteLock.inspect()` tell about a key. */
export interface SemaphoreInfo {
  /** `'semaphore'` or `'read-write'`. */
  readonly kind: SemaphoreKind;
  /** The key's permit count. */
  readonly permits: number;
  /** Permits held right now. */
  readonly inUse: number;
  /** The live holders, in grant order. */
  readonly holders: readonly SemaphoreHolderInfo[];
  /** Callers waiting in line. */
  readonly waiting: number;
  /** The last fence handed out for the key. */
  readonly fence: number;
}

/**
 * A counting semaphore: at most `permits` permits are held at once, across every process on the
 * backend. Waiters are served first come, first served.
 * @example
 * ```ts
 * const downloads = locker.semaphore('downloads', { permits: 3 });
 * await using permit = await downloads.acquire({ timeout: 5_000 });
 * await fetchFile(url, { signal: permit.signal });
 * ```
 */
export interface Semaphore {
  /** The semaphore's key. */
  readonly key: string;
  /** The permit count this object asks for. */
  readonly permits: number;
  /**
   * Takes `count` permits (default 1), waiting in line until they are free.
   * @throws {LockTimeoutError} after `timeout`; `LockAbortedError`; `LockClosedError`;
   * `InvalidArgumentError` for a bad count or a permit count other than the key's.
   */
  acquire(options?: AcquireOptions): Promise<PermitHandle>;
  /**
   * Takes `count` permits if they are free and nobody waits ahead, without waiting.
   * @throws {NotAcquiredError} when they are not.
   */
  tryAcquire(options?: TryAcquireOptions): Promise<PermitHandle>;
  /** The key's holders, permits in use and waiters, or `undefined` when it has none. */
  inspect(): Promise<SemaphoreInfo | undefined>;
}

/**
 * A read-write lock: many readers or one writer. A waiting writer blocks new readers, so writers
 * are not starved; fences strictly grow across reads and writes alike.
 * @example
 * ```ts
 * const config = locker.readWriteLock('config');
 * {
 *   await using reading = await config.read();
 *   use(await loadConfig());
 * }
 * await using writing = await config.write({ timeout: 5_000 });
 * await saveConfig(next, { fence: writing.fence });
 * ```
 */
export interface ReadWriteLock {
  /** The lock's key. */
  readonly key: string;
  /** Takes a read hold, waiting while a writer holds or waits. */
  read(options?: LockOptions): Promise<PermitHandle>;
  /** Takes the write hold, waiting until no reader or writer holds it. */
  write(options?: LockOptions): Promise<PermitHandle>;
  /** A read hold now, or `NotAcquiredError`. */
  tryRead(options?: TryLockOptions): Promise<PermitHandle>;
  /** The write hold now, or `NotAcquiredError`. */
  tryWrite(options?: TryLockOptions): Promise<PermitHandle>;
  /** Holders (readers or the writer) and waiters, or `undefined` when it has none. */
  inspect(): Promise<SemaphoreInfo | undefined>;
}
