import {
  type AcquireGranted,
  type AcquireResult,
  type LockBackend,
  RW_PERMITS,
  type Unsubscribe,
} from './backend.js';
import { type Clock, systemClock } from './clock.js';
import { DeadlineQueue } from './deadline-queue.js';
import { type Election, type ElectionOptions, startElection } from './election.js';
import {
  InvalidArgumentError,
  isLockError,
  LockAbortedError,
  LockClosedError,
  LockTimeoutError,
  NotAcquiredError,
} from './errors.js';
import {
  checkObserver,
  type LockEventListener,
  type LockEventName,
  LockEvents,
  type LockObserver,
  nextCall,
} from './events.js';
import { Inflight } from './inflight.js';
import { KeepaliveGroup } from './keepalive.js';
import {
  asBackendError,
  HeldLock,
  type LockCallbacks,
  type LockContext,
  type LockHandle,
} from './lock-handle.js';
import {
  LOCK_OPTION_NAMES,
  LOCKER_OPTION_NAMES,
  type LockerOptions,
  type LockInfo,
  type LockOptions,
  TRY_LOCK_OPTION_NAMES,
  type TryLockOptions,
} from './options.js';
import {
  checkPermits,
  SemaphoreClient,
  type SemaphoreContext,
  semaphoreLockView,
  semaphoreOpsOf,
} from './semaphore.js';
import type { ReadWriteLock, Semaphore, SemaphoreOptions } from './semaphore-types.js';
import { identityOf, newOwnerToken, randomIdentity } from './token.js';
import {
  checkFunction,
  checkKey,
  checkNonNegative,
  checkOptions,
  checkPositive,
  checkSignal,
  checkTtl,
} from './validate.js';
import { backoffDelay, raceSignal, sleep } from './wait.js';

const DEFAULT_TTL_MS = 30_000;

/** One acquire call's progress, for its events: an id, when it began, attempts made. */
interface Progress {
  readonly call: number;
  readonly since: number;
  attempts: number;
}

const EVENT_NAMES: readonly LockEventName[] = [
  'acquire-attempted',
  'acquired',
  'acquire-failed',
  'denied',
  'renewed',
  'at-risk',
  'lost',
  'released',
  'backend-error',
];
const FIXED_DRIFT_MS = 2;

/**
 * How early the loss timer fires before a validity ends, in ms: 5 % of the TTL, at least 10 and at
 * most 100. A timer that fires late by up to this much (a busy event loop) still aborts the
 * lock's signal before its validity is over; a lock may so be declared lost up to this much early.
 */
export function lossTimerLeadMs(ttlMs: number): number {
  return Math.min(100, Math.max(10, ttlMs * 0.05));
}

/** Options of {@link Locker.session}: a child locker with its own identity and TTL. */
export type SessionOptions = Pick<
  LockerOptions,
  'ttl' | 'timeout' | 'identity' | 'keepalive' | 'onRisk' | 'onLost' | 'onRenew' | 'onError'
>;

const SESSION_OPTION_NAMES = [
  'ttl',
  'timeout',
  'identity',
  'keepalive',
  'onRisk',
  'onLost',
  'onRenew',
  'onError',
] as const;

/**
 * Takes, waits for, keeps alive and releases locks on one backend. A locker is also a
 * *session* (as in src-d's lock service): one identity and one TTL, one keepalive tick for all
 * its locks, a `signal` that aborts when it closes, and `close()` that releases all it holds.
 * @example
 * ```ts
 * import { createLocker } from '@lock/core';
 * import { LocalBackend } from '@lock/local';
 *
 * const locker = createLocker(new LocalBackend(), { ttl: 10_000 });
 * const total = await locker.withLock('report', async (signal) => buildReport({ signal }));
 * await locker.close();
 * ```
 */
export class Locker {
  /** Public identity shown to others as the holder of this locker's locks. */
  readonly identity: string;
  /** Default TTL of this locker's locks, in milliseconds. */
  readonly ttl: number;
  /** Default longest wait of `lock()` and `withLock()`, in milliseconds. */
  readonly timeout: number;
  readonly #backend: LockBackend;
  readonly #ownsBackend: boolean;
  readonly #clock: Clock;
  readonly #keepaliveMs: ((ttl: number) => number) | undefined;
  readonly #driftFactor: number;
  readonly #minTtl: number;
  readonly #retry: { minDelay: number; maxDelay: number; pollInterval: number };
  readonly #callbacks: LockCallbacks;
  readonly #onError: (error: unknown) => void;
  readonly #groups = new Map<string, KeepaliveGroup>();
  /** The group last used: nearly every lock of a locker goes to the same one. */
  #lastGroup: KeepaliveGroup | undefined;
  readonly #closed = new AbortController();
  readonly #children = new Set<Locker>();
  readonly #elections = new Set<Election>();
  /** Backend calls and lock operations under way: `close()` waits for them. */
  readonly #inflight = new Inflight();
  /** Cut-offs of first attempts (see `#firstAttempt`), on one timer. */
  readonly #deadlines: DeadlineQueue;
  /** Pending waits to stop on close (a set, not one listener each on the closed signal). */
  readonly #waits = new Set<() => void>();
  /** Keeps the process alive while a `lock()` or `withLock()` call is pending (see #holdProcess). */
  #pendingCalls = 0;
  #processHold: ReturnType<typeof setInterval> | undefined;
  readonly #context: LockContext;
  /** Built on the first `semaphore()` / `readWriteLock()` call. */
  #semaphores: SemaphoreContext | undefined;
  readonly #events: LockEvents;
  #closing: Promise<void> | undefined;
  /** Set by the parent of a session: called once this session's close() has finished. */
  #onClosed: (() => void) | undefined;

  /**
   * Use {@link createLocker} or `connect`. `ownsBackend` and `events` are for sessions: a session
   * does not close the backend, and reports to its parent's listeners.
   */
  constructor(
    backend: LockBackend,
    options: LockerOptions = {},
    ownsBackend = true,
    events?: LockEvents,
  ) {
    checkBackend(backend);
    checkLockerOptions(options);
    this.#backend = backend;
    this.#ownsBackend = ownsBackend;
    this.#clock = options.clock ?? systemClock;
    this.#deadlines = new DeadlineQueue(this.#clock);
    this.#driftFactor = options.driftFactor ?? 0.01;
    this.#minTtl = smallestUsableTtl((ttl) => this.#marginMs(ttl) + lossTimerLeadMs(ttl));
    this.ttl = options.ttl ?? DEFAULT_TTL_MS;
    this.#checkUsable(this.ttl, 'options.ttl');
    this.timeout = options.timeout ?? Number.POSITIVE_INFINITY;
    this.identity = options.identity ?? randomIdentity();
    const keepalive = options.keepalive ?? true;
    this.#keepaliveMs =
      keepalive === false
        ? undefined
        : keepalive === true || keepalive.interval === undefined
          ? (ttl) => ttl / 3
          : () => keepalive.interval as number;
    this.#retry = {
      minDelay: options.retry?.minDelay ?? 2,
      maxDelay: options.retry?.maxDelay ?? 100,
      pollInterval: options.retry?.pollInterval ?? 1_000,
    };
    this.#callbacks = {
      onRisk: options.onRisk,
      onLost: options.onLost,
      onRenew: options.onRenew,
    };
    this.#onError = options.onError ?? warnToConsole;
    this.#events = events ?? new LockEvents((error) => this.#onError(error));
    for (const [name, listener] of Object.entries(options.events ?? {})) {
      this.#events.on(name as LockEventName, listener as LockEventListener<LockEventName>);
    }
    this.#context = {
      clock: this.#clock,
      backend,
      marginMs: (ttl) => this.#marginMs(ttl),
      checkTtl: (ttl, name) => this.#checkUsable(ttl, name),
      keep: (lock) => this.#track(lock),
      unkeep: (lock) => this.#untrack(lock),
      inflight: (call) => this.#inflight.track(call),
      report: (error) => this.#onError(error),
      events: this.#events,
      backendError: (error, key, operation, lock) =>
        this.#backendError(error, key, operation, lock),
    };
  }

  /**
   * Listens to lock events of this locker and its sessions: `'acquire-attempted'`, `'acquired'`
   * (wait time, attempts), `'denied'`, `'renewed'` (send time, new validity), `'at-risk'`,
   * `'lost'` (reason, time since the last renewal, how early before the end of validity),
   * `'released'` (hold time), `'backend-error'` (code, operation). Returns the function that
   * stops listening. Costs nothing for events nobody listens to.
   * @example
   * ```ts
   * const stop = locker.on('acquired', (e) => metrics.waitMs.record(e.waitMs));
   * ```
   */
  on<E extends LockEventName>(name: E, listener: LockEventListener<E>): () => void {
    if (!EVENT_NAMES.includes(name)) {
      throw new InvalidArgumentError('name', name, `must be one of ${EVENT_NAMES.join(', ')}`);
    }
    checkFunction(listener, 'listener');
    return this.#events.on(name, listener);
  }

  /**
   * Attaches a {@link LockObserver}: the lower-level subscription a metrics library uses on the
   * hot path (positional arguments, no event object, the times core already read, and one value
   * of its own kept on each lock). One observer per locker and its sessions; `on()` listeners
   * listen beside it. Returns the function that detaches it. Costs nothing while none is attached.
   * @throws {InvalidArgumentError} when `observer` has no `acquired` method, or another observer
   * is attached.
   * @example
   * ```ts
   * const stop = locker.observe({
   *   acquired: (lock) => performance.now(),
   *   released: (lock, startedAt, holdMs) => holds.record(holdMs),
   * });
   * ```
   */
  observe<State>(observer: LockObserver<State>): () => void {
    checkObserver(observer);
    const events = this.#events;
    if (events.observer !== undefined) {
      throw new InvalidArgumentError('observer', observer, 'is one too many: detach the other');
    }
    events.observer = observer as LockObserver;
    return () => {
      if (events.observer === observer) events.observer = undefined;
    };
  }

  /** Aborted (with a {@link LockClosedError}) once `close()` has been called. */
  get signal(): AbortSignal {
    return this.#closed.signal;
  }

  /** The clock this locker judges time by. */
  get clock(): Clock {
    return this.#clock;
  }

  /** The backend this locker runs on. */
  get backend(): LockBackend {
    return this.#backend;
  }

  /** Number of locks this locker (not counting its sessions) holds right now. */
  get heldCount(): number {
    let count = 0;
    for (const group of this.#groups.values()) count += group.size;
    return count;
  }

  /**
   * Takes `key` if it is free, without waiting.
   * @throws {NotAcquiredError} when someone holds it, with their identity and remaining time.
   * @example
   * ```ts
   * try {
   *   await using lock = await locker.tryLock('cron:daily');
   *   await runDaily(lock.signal);
   * } catch (e) {
   *   if (!isLockError(e, 'NOT_ACQUIRED')) throw e; // another instance runs it
   * }
   * ```
   */
  tryLock(key: string, options?: TryLockOptions): Promise<LockHandle> {
    return this.#inflight.track(this.#tryLock(key, options));
  }

  /**
   * Takes `key`, waiting until it is free: in the backend's fair queue when it has one, else
   * woken by its notifications (subscribed before the first try), else by backoff with jitter,
   * and always by the holder's TTL running out. One deadline, `timeout` from the call, bounds
   * the whole call.
   * @throws {LockTimeoutError} after `timeout`; {@link LockAbortedError} when `signal` aborts;
   * {@link LockClosedError} when the locker closes; `BackendError` when the backend fails.
   */
  lock(key: string, options?: LockOptions): Promise<LockHandle> {
    return this.#inflight.track(this.#holdProcessWhile(this.#lock(key, options)));
  }

  /**
   * Runs `fn` while holding `key`: waits for the lock, keeps it alive while `fn` runs, aborts the
   * `signal` given to `fn` if the lock is lost, and releases it afterwards.
   *
   * If `fn` throws, its error is what you get (a failed release goes to `onError`). If the lock
   * was lost while `fn` ran, `withLock` rejects with the {@link LockLostError} even if `fn`
   * succeeded, so a result produced without the lock is never taken for a good one.
   * @example
   * ```ts
   * const n = await locker.withLock('counter', async (signal, lock) => {
   *   const value = await db.read('counter', { signal });
   *   await db.write('counter', value + 1, { fence: lock.fence });
   *   return value + 1;
   * }, { timeout: 5_000 });
   * ```
   */
  withLock<T>(
    key: string,
    fn: (signal: AbortSignal, lock: LockHandle) => T | Promise<T>,
    options?: LockOptions,
  ): Promise<T> {
    return this.#holdProcessWhile(this.#withLock(key, fn, options));
  }

  async #withLock<T>(
    key: string,
    fn: (signal: AbortSignal, lock: LockHandle) => T | Promise<T>,
    options: LockOptions | undefined,
  ): Promise<T> {
    checkFunction(fn, 'fn');
    const lock = await this.lock(key, options);
    let result: T;
    try {
      result = await fn(lock.signal, lock);
    } catch (error) {
      await lock.release().catch((releaseError: unknown) => {
        if (!isLockError(releaseError, 'LOST')) this.#onError(releaseError);
      });
      throw error;
    }
    try {
      await lock.release();
    } catch (error) {
      if (isLockError(error, 'BACKEND')) {
        // The lock was held when fn finished (release checks that first): the result is good,
        // and the lock will expire by its TTL.
        this.#onError(error);
        return result;
      }
      throw lock.signal.aborted ? lock.signal.reason : error;
    }
    return result;
  }

  /** Who holds `key` now, or `undefined` if nobody does. */
  async inspect(key: string): Promise<LockInfo | undefined> {
    checkKey(key);
    this.#assertOpen();
    let info: Awaited<ReturnType<LockBackend['inspect']>>;
    try {
      info = await this.#inflight.track(this.#backend.inspect(key));
    } catch (error) {
      const wrapped = asBackendError(error, key, 'inspect');
      this.#backendError(wrapped, key, 'inspect');
      throw wrapped;
    }
    if (info === undefined) return undefined;
    return { holder: identityOf(info.owner), remainingMs: info.remainingMs, fence: info.fence };
  }

  /**
   * A counting semaphore at `key`: at most `permits` permits held at once across every process
   * on the backend, waiters served first come, first served (one asking for many is not passed
   * by later ones asking for few). Each permit handle is a lock handle: keepalive, `signal`,
   * `fence` (growing across every grant of the key), `release()`, `await using`. Checks its
   * arguments now; no I/O until `acquire()`.
   * @throws {InvalidArgumentError} for a bad key or a `permits` not an integer in 1..10,000.
   * @example
   * ```ts
   * const slots = locker.semaphore('gpu', { permits: 4 });
   * await using permit = await slots.acquire({ count: 2, timeout: 10_000 });
   * console.log(`holding 2 of 4 under fence ${permit.fence}`);
   * ```
   */
  semaphore(key: string, options: SemaphoreOptions): Semaphore {
    checkKey(key);
    if (options === undefined) {
      throw new InvalidArgumentError('options', options, 'must be an object with permits');
    }
    checkOptions(options, 'options', ['permits']);
    checkPermits(options.permits);
    return new SemaphoreClient(this.#semaphoreContext(), key, options.permits);
  }

  /**
   * A read-write lock at `key`: many readers or one writer; a waiting writer blocks new readers,
   * so writers are not starved; fences strictly grow across reads and writes alike.
   * @example
   * ```ts
   * const rw = locker.readWriteLock('catalog');
   * await using reading = await rw.read({ timeout: 1_000 });
   * console.log(`reading under fence ${reading.fence}`);
   * ```
   */
  readWriteLock(key: string): ReadWriteLock {
    checkKey(key);
    return new SemaphoreClient(this.#semaphoreContext(), key, RW_PERMITS);
  }

  #semaphoreContext(): SemaphoreContext {
    this.#assertOpen();
    if (this.#semaphores !== undefined) return this.#semaphores;
    const ops = semaphoreOpsOf(this.#backend, this.#clock);
    const lockContext: LockContext = {
      ...this.#context,
      backend: semaphoreLockView(this.#backend, ops),
      keep: (lock) => this.#track(lock, lockContext),
    };
    this.#semaphores = {
      ops,
      backend: this.#backend,
      lockContext,
      identity: this.identity,
      timeout: this.timeout,
      pollInterval: this.#retry.pollInterval,
      retry: this.#retry,
      closed: this.#closed.signal,
      ttlOf: (options) => this.#ttlOf(options),
      callbacksOf: (options) => this.#callbacksOf(options),
      stopSignal: (key, timeout, deadline, user) => this.#stopSignal(key, timeout, deadline, user),
      assertOpen: () => this.#assertOpen(),
      holdProcessWhile: (call) => this.#holdProcessWhile(call),
    };
    return this.#semaphores;
  }

  /**
   * Opens a session: a child locker on the same backend with its own identity and TTL, whose
   * locks share one keepalive tick, and whose `close()` releases all of them. Closing this
   * locker closes its sessions.
   */
  session(options: SessionOptions = {}): Locker {
    checkOptions(options, 'options', SESSION_OPTION_NAMES);
    this.#assertOpen();
    const child = new Locker(
      this.#backend,
      {
        clock: this.#clock,
        driftFactor: this.#driftFactor,
        retry: this.#retry,
        timeout: this.timeout,
        ...options,
      },
      false,
      this.#events,
    );
    this.#children.add(child);
    // Forgotten once its close() has finished, not when it starts: this locker's close() must
    // wait for the session's releases under way before it closes the backend underneath them.
    child.#onClosed = () => this.#children.delete(child);
    return child;
  }

  /**
   * Campaigns for leadership of `key`: `onLeader(signal)` runs when this locker wins, `signal`
   * aborts when leadership is lost, and `onFollower()` runs whenever it is not (or no longer)
   * the leader. Campaigns again after losing, until `stop()` or until this locker closes
   * (`close()` waits for the campaign to end and its lock to be released).
   */
  elect(key: string, options: ElectionOptions): Election {
    this.#assertOpen();
    const { election, done } = startElection(this, key, options);
    this.#elections.add(election);
    void done.then(() => this.#elections.delete(election));
    return election;
  }

  /**
   * Stops this locker's elections and waits for them, releases every lock this locker and its
   * sessions hold, stops their keepalive, rejects pending waits with {@link LockClosedError},
   * waits for every backend call under way (a release already sent reaches the server), then
   * closes the backend if this locker owns it. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close().finally(() => this.#onClosed?.());
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#closed.abort(new LockClosedError(this.#ownsBackend ? 'locker' : 'session'));
    for (const stopWait of [...this.#waits]) stopWait();
    await Promise.all([...this.#elections].map((election) => election.stop()));
    await Promise.all([...this.#children].map((child) => child.close()));
    const held = [...this.#groups.values()].flatMap((group) => [...group.members()]);
    const errors: unknown[] = [];
    await Promise.all(
      held.map((lock) =>
        lock.release().catch((error: unknown) => {
          if (!isLockError(error, 'LOST')) errors.push(error);
        }),
      ),
    );
    await this.#inflight.drain();
    this.#deadlines.disarmIfIdle();
    for (const group of [...this.#groups.values()]) group.dispose();
    if (this.#ownsBackend) {
      try {
        await this.#backend.close();
      } catch (error) {
        errors.push(asBackendError(error, undefined, 'close'));
      }
    }
    if (this.#pendingCalls === 0) {
      clearInterval(this.#processHold);
      this.#processHold = undefined;
    }
    for (const error of errors) this.#onError(error);
  }

  async #tryLock(key: string, options: TryLockOptions | undefined): Promise<LockHandle> {
    checkKey(key);
    checkOptions(options, 'options', TRY_LOCK_OPTION_NAMES);
    const ttl = this.#ttlOf(options);
    this.#assertOpen();
    const owner = newOwnerToken(this.identity);
    const sentAt = this.#clock.now();
    const progress: Progress = { call: nextCall(), since: sentAt, attempts: 1 };
    this.#attempted(key, progress);
    let result: AcquireResult;
    try {
      result = await this.#acquireOnce(key, owner, ttl);
    } catch (error) {
      this.#failed(key, progress, error);
      throw error;
    }
    if (result.acquired) return this.#adopt(key, owner, result, ttl, sentAt, options, progress);
    this.#denied(key, result, progress);
    throw new NotAcquiredError(
      key,
      result.holder === undefined ? undefined : identityOf(result.holder),
      result.remainingMs,
    );
  }

  async #lock(key: string, options: LockOptions | undefined): Promise<LockHandle> {
    checkKey(key);
    checkOptions(options, 'options', LOCK_OPTION_NAMES);
    const ttl = this.#ttlOf(options);
    const timeout = options?.timeout === undefined ? this.timeout : options.timeout;
    checkNonNegative(timeout, 'options.timeout');
    if (options?.signal !== undefined) checkSignal(options.signal, 'options.signal');
    this.#assertOpen();
    // One deadline for the whole call, taken before the first attempt.
    const since = this.#clock.now();
    const progress: Progress = { call: nextCall(), since, attempts: 0 };
    try {
      return await this.#attempt(key, ttl, timeout, options, progress);
    } catch (error) {
      this.#failed(key, progress, error);
      throw error;
    }
  }

  async #attempt(
    key: string,
    ttl: number,
    timeout: number,
    options: LockOptions | undefined,
    progress: Progress,
  ): Promise<LockHandle> {
    const owner = newOwnerToken(this.identity);
    const deadline = progress.since + timeout;
    // A queue the backend says to join at once (a key it saw contended a moment ago) is joined
    // without a plain try first, unless the call is a single attempt (see `queuesAtOnce`).
    const queueAtOnce =
      timeout !== 0 &&
      this.#backend.acquireQueued !== undefined &&
      this.#backend.queuesAtOnce?.(key) === true;
    if (options?.signal === undefined && !queueAtOnce) {
      // Fast path: one plain attempt. The waiting machinery (signals, timers, a queue place or a
      // subscription) is only built when the key turns out to be taken. The call's start, read
      // in this same synchronous run just before, stands for the send time: no later than it,
      // so the validity counted from it is, if anything, shorter (one clock read less a call).
      const sentAt = progress.since;
      progress.attempts += 1;
      this.#attempted(key, progress);
      const first = await this.#firstAttempt(key, owner, ttl, timeout, deadline);
      if (first.acquired) return this.#adopt(key, owner, first, ttl, sentAt, options, progress);
      this.#denied(key, first, progress);
      if (timeout === 0 || this.#clock.now() >= deadline) throw new LockTimeoutError(key, timeout);
      // close() stops only the waits already begun: it may have come while the attempt was out.
      this.#assertOpen();
    }
    const stop = this.#stopSignal(key, timeout, deadline, options?.signal);
    try {
      return await this.#wait(key, owner, ttl, deadline, timeout, stop.signal, options, progress);
    } catch (error) {
      throw stop.signal.aborted && error === stop.signal.reason ? stop.signal.reason : error;
    } finally {
      stop.dispose();
    }
  }

  #assertOpen(): void {
    if (this.#closed.signal.aborted) throw this.#closed.signal.reason;
  }

  /**
   * Keeps the process alive until `call` settles. Core's timers are unref'd (a held lock alone
   * never keeps a process running), so a script whose only pending work is a wait for a lock on
   * an in-process backend (no socket) would exit mid-wait. One ref'd timer, shared by every
   * pending call, holds it; an idle locker holds nothing.
   */
  #holdProcessWhile<T>(call: Promise<T>): Promise<T> {
    if (this.#pendingCalls++ === 0) this.#processHold = holdProcess(this.#processHold);
    call.then(this.#callSettled, this.#callSettled);
    return call;
  }

  /** One closure for every call `#holdProcessWhile` watches, not one per call. */
  readonly #callSettled = (): void => {
    if (--this.#pendingCalls === 0) this.#processHold = letProcessGo(this.#processHold);
  };

  /** Allowance for clock drift subtracted from every validity window. */
  #marginMs(ttl: number): number {
    return ttl * this.#driftFactor + FIXED_DRIFT_MS;
  }

  #ttlOf(options: TryLockOptions | undefined): number {
    if (options?.ttl === undefined) return this.ttl;
    this.#checkUsable(options.ttl, 'options.ttl');
    return options.ttl;
  }

  /** A TTL must leave some certain validity once the safety margin is taken off. */
  #checkUsable(ttl: unknown, name: string): asserts ttl is number {
    checkTtl(ttl, name);
    if (ttl < this.#minTtl) {
      throw new InvalidArgumentError(
        name,
        ttl,
        `must be at least ${this.#minTtl} ms: a shorter TTL leaves no certain validity once the clock-drift margin (${this.#driftFactor} × TTL + ${FIXED_DRIFT_MS} ms) and the loss timer's lead (at least 10 ms) are taken off`,
      );
    }
  }

  async #acquireOnce(key: string, owner: string, ttl: number): Promise<AcquireResult> {
    try {
      return await this.#inflight.track(this.#backend.acquire({ key, owner, ttlMs: ttl }));
    } catch (error) {
      const wrapped = asBackendError(error, key, 'acquire');
      this.#backendError(wrapped, key, 'acquire');
      // No reply is not "not taken": the request may have landed. Hand it back, owner-checked.
      if (isLockError(wrapped, 'BACKEND')) this.#releaseQuietly(key, owner);
      throw wrapped;
    }
  }

  /**
   * Best-effort owner-checked release after an acquire whose outcome is unknown. Its errors are
   * not reported: the caller already has the acquire's error, and a lock that did land expires
   * by its TTL.
   */
  #releaseQuietly(key: string, owner: string): void {
    this.#inflight.track(this.#backend.release({ key, owner })).catch(() => {});
  }

  #adopt(
    key: string,
    owner: string,
    grant: AcquireGranted,
    ttl: number,
    sentAt: number,
    options: TryLockOptions | undefined,
    progress: Progress,
    contended = progress.attempts > 1,
  ): HeldLock {
    const effectiveTtl = Math.min(ttl, grant.ttlMs ?? ttl);
    const callbacks = this.#callbacksOf(options);
    const lock = new HeldLock(
      this.#context,
      key,
      owner,
      grant.fence,
      { sentAt, ttlMs: effectiveTtl },
      options?.keepalive ?? true,
      callbacks,
    );
    this.#track(lock);
    if (this.#closed.signal.aborted) {
      // Closed while the acquire was in flight: hand the lock straight back.
      lock.release().catch((error: unknown) => this.#onError(error));
      throw this.#closed.signal.reason;
    }
    lock.assertHeldAtGrant();
    const events = this.#events;
    const observed = events.observer !== undefined;
    if (observed || events.wants('acquired')) {
      const waitMs = lock.acquiredAt - progress.since;
      const { attempts, call } = progress;
      if (observed)
        events.observeAcquired(lock, waitMs, attempts, contended, call, lock.acquiredAt);
      if (events.wants('acquired')) {
        events.emit('acquired', { key, call, lock, waitMs, attempts, contended });
      }
    }
    return lock;
  }

  /** The locker's callbacks, overridden by a call's own. */
  #callbacksOf(options: TryLockOptions | undefined): LockCallbacks {
    return options?.onRisk === undefined &&
      options?.onLost === undefined &&
      options?.onRenew === undefined
      ? this.#callbacks
      : {
          onRisk: options.onRisk ?? this.#callbacks.onRisk,
          onLost: options.onLost ?? this.#callbacks.onLost,
          onRenew: options.onRenew ?? this.#callbacks.onRenew,
        };
  }

  #attempted(key: string, progress: Progress): void {
    if (this.#events.wants('acquire-attempted')) {
      this.#events.emit('acquire-attempted', {
        key,
        call: progress.call,
        attempt: progress.attempts,
      });
    }
  }

  #denied(key: string, result: AcquireResult, progress: Progress): void {
    if (result.acquired || !this.#events.wants('denied')) return;
    this.#events.emit('denied', {
      key,
      call: progress.call,
      holder: result.holder === undefined ? undefined : identityOf(result.holder),
      remainingMs: result.remainingMs,
    });
  }

  #failed(key: string, progress: Progress, error: unknown): void {
    if (!this.#events.wants('acquire-failed') || isLockError(error, 'NOT_ACQUIRED')) return;
    this.#events.emit('acquire-failed', {
      key,
      call: progress.call,
      waitMs: this.#clock.now() - progress.since,
      attempts: progress.attempts,
      code: isLockError(error) ? error.code : 'BACKEND',
      error,
    });
  }

  #backendError(
    error: unknown,
    key: string | undefined,
    operation: string,
    lock?: LockHandle,
  ): void {
    if (!this.#events.wants('backend-error')) return;
    this.#events.emit('backend-error', {
      key,
      operation,
      code: isLockError(error) ? error.code : 'BACKEND',
      error,
      lock,
    });
  }

  /**
   * Keeps `lock` alive in the group of its TTL and interval. Semaphore handles (`context` their
   * own, talking to the semaphore operations) have groups of their own.
   */
  #track(lock: HeldLock, context: LockContext = this.#context): void {
    const interval =
      lock.keepalive && this.#keepaliveMs
        ? this.#keepaliveMs(lock.ttlMs)
        : Number.POSITIVE_INFINITY;
    let group = context === this.#context ? this.#lastGroup : undefined;
    if (group?.ttlMs !== lock.ttlMs || group.intervalMs !== interval) {
      const id = `${context === this.#context ? '' : 's'}${lock.ttlMs}:${interval}`;
      group = this.#groups.get(id);
      if (group === undefined) {
        const created = new KeepaliveGroup(
          context,
          lock.ttlMs,
          interval,
          lossTimerLeadMs(lock.ttlMs),
          () => {
            // Retired (empty, its timers done): forget it, unless a newer group took its place.
            if (this.#groups.get(id) === created) this.#groups.delete(id);
            if (this.#lastGroup === created) this.#lastGroup = undefined;
          },
        );
        this.#groups.set(id, created);
        group = created;
      }
      if (context === this.#context) this.#lastGroup = group;
    }
    lock.group = group;
    group.add(lock);
  }

  #untrack(lock: HeldLock): void {
    lock.group?.delete(lock);
    lock.group = undefined;
  }

  /** One signal for everything that ends a wait: caller's abort, the deadline, locker closed. */
  #stopSignal(key: string, timeout: number, deadline: number, user: AbortSignal | undefined) {
    const controller = new AbortController();
    const onUserAbort = () => controller.abort(new LockAbortedError(key, user?.reason));
    const onClose = () => controller.abort(this.#closed.signal.reason);
    if (user?.aborted) onUserAbort();
    user?.addEventListener('abort', onUserAbort, { once: true });
    this.#waits.add(onClose);
    // A zero timeout means one attempt: let it finish rather than cut it off at once.
    const timer =
      Number.isFinite(timeout) && timeout > 0
        ? this.#clock.setTimeout(
            () => controller.abort(new LockTimeoutError(key, timeout)),
            deadline - this.#clock.now(),
          )
        : undefined;
    return {
      signal: controller.signal,
      dispose: () => {
        this.#clock.clearTimeout(timer);
        user?.removeEventListener('abort', onUserAbort);
        this.#waits.delete(onClose);
      },
    };
  }

  /**
   * One attempt, cut off at `deadline` when `timeout` is finite and non-zero (a late grant is
   * then released). The cut-off waits in the locker's shared {@link DeadlineQueue}, not on a
   * timer of its own.
   */
  #firstAttempt(
    key: string,
    owner: string,
    ttl: number,
    timeout: number,
    deadline: number,
  ): Promise<AcquireResult> {
    const attempt = this.#acquireOnce(key, owner, ttl);
    if (!Number.isFinite(timeout) || timeout === 0) return attempt;
    return new Promise((resolve, reject) => {
      const cutOff = this.#deadlines.add(deadline, () => {
        reject(new LockTimeoutError(key, timeout));
        this.#releaseIfGranted(attempt, key, owner);
      });
      attempt.then(
        (result) => {
          cutOff.cancel();
          resolve(result);
        },
        (error: unknown) => {
          cutOff.cancel();
          reject(error);
        },
      );
    });
  }

  /** Releases, in the background, a lock that `attempt` grants after we stopped waiting for it. */
  #releaseIfGranted(attempt: Promise<unknown>, key: string, owner: string): void {
    void this.#inflight.track(
      attempt.then(
        async (late) => {
          if ((late as { acquired?: boolean }).acquired) {
            await this.#backend.release({ key, owner }).catch((e: unknown) => this.#onError(e));
          }
        },
        () => {},
      ),
    );
  }

  async #wait(
    key: string,
    owner: string,
    ttl: number,
    deadline: number,
    timeout: number,
    stop: AbortSignal,
    options: LockOptions | undefined,
    progress: Progress,
  ): Promise<HeldLock> {
    if (this.#backend.acquireQueued !== undefined) {
      progress.attempts += 1;
      this.#attempted(key, progress);
      const grant = await this.#guard(
        this.#inflight.track(
          this.#backend.acquireQueued(
            { key, owner, ttlMs: ttl },
            { signal: stop, now: () => this.#clock.now() },
          ),
        ),
        key,
        owner,
        stop,
      );
      return this.#adopt(key, owner, grant, ttl, grant.sentAt, options, progress, true);
    }
    let woken = false;
    let wake: (() => void) | undefined;
    let unsubscribe: Unsubscribe | undefined;
    if (this.#backend.watch !== undefined) {
      // Subscribe before the first try, so a release between a failed try and the wait still wakes us.
      unsubscribe = await this.#guard(
        Promise.resolve(
          this.#backend.watch(key, () => {
            woken = true;
            wake?.();
          }),
        ),
        key,
        undefined,
        stop,
      );
    }
    try {
      for (let attempt = 0; ; attempt++) {
        if (stop.aborted) throw stop.reason;
        woken = false;
        const sentAt = this.#clock.now();
        progress.attempts += 1;
        this.#attempted(key, progress);
        const result = await this.#guard(this.#acquireOnce(key, owner, ttl), key, owner, stop);
        if (result.acquired) {
          return this.#adopt(key, owner, result, ttl, sentAt, options, progress, true);
        }
        this.#denied(key, result, progress);
        const now = this.#clock.now();
        if (now >= deadline) throw new LockTimeoutError(key, timeout);
        let delay = unsubscribe
          ? this.#retry.pollInterval
          : backoffDelay(attempt, this.#retry.minDelay, this.#retry.maxDelay);
        if (result.remainingMs !== undefined) delay = Math.min(delay, result.remainingMs + 1);
        delay = Math.min(delay, deadline - now);
        if (!woken) {
          await sleep(this.#clock, delay, stop, (resume) => {
            wake = resume;
          });
        }
        wake = undefined;
      }
    } finally {
      if (unsubscribe) {
        Promise.resolve(unsubscribe()).catch((error: unknown) => this.#onError(error));
      }
    }
  }

  /**
   * Awaits `promise` unless `stop` aborts first. If it then still grants a lock (`owner` given),
   * that lock is released in the background, so giving up never leaves a lock behind.
   */
  async #guard<T>(
    promise: Promise<T>,
    key: string,
    owner: string | undefined,
    stop: AbortSignal,
  ): Promise<T> {
    try {
      return await raceSignal(promise, stop);
    } catch (error) {
      if (stop.aborted && owner !== undefined) this.#releaseIfGranted(promise, key, owner);
      if (stop.aborted) throw stop.reason;
      const wrapped = asBackendError(error, key, 'acquire');
      if (wrapped !== error) this.#backendError(wrapped, key, 'acquire');
      throw wrapped;
    }
  }
}

type ProcessHold = ReturnType<typeof setInterval> & { ref?: () => unknown; unref?: () => unknown };

/**
 * Makes `hold` (or a new timer) keep the process alive. On Node the one timer is kept and only
 * ref'd and unref'd, which is cheaper than making one for every call.
 */
function holdProcess(hold: ProcessHold | undefined): ProcessHold {
  if (hold?.ref !== undefined) {
    hold.ref();
    return hold;
  }
  return setInterval(() => {}, 1 << 30) as ProcessHold;
}

/** Lets the process exit again (unref'd on Node, cleared elsewhere). */
function letProcessGo(hold: ProcessHold | undefined): ProcessHold | undefined {
  if (hold?.unref !== undefined) {
    hold.unref();
    return hold;
  }
  clearInterval(hold);
  return undefined;
}

/** The smallest whole-millisecond TTL that leaves at least 1 ms once `margin` is taken off. */
function smallestUsableTtl(margin: (ttl: number) => number): number {
  let ttl = 1;
  while (ttl - margin(ttl) < 1) ttl++;
  return ttl;
}

/**
 * Creates a {@link Locker} over `backend`. The locker owns the backend: `locker.close()`
 * closes it. Use `locker.session()` for more lockers on the same backend.
 * @example
 * ```ts
 * const locker = createLocker(new LocalBackend(), { ttl: 5_000 });
 * await using lock = await locker.lock('resource', { timeout: 1_000 });
 * ```
 */
export function createLocker(backend: LockBackend, options?: LockerOptions): Locker {
  return new Locker(backend, options);
}

function checkBackend(backend: unknown): asserts backend is LockBackend {
  const methods = ['acquire', 'extend', 'release', 'inspect', 'close'] as const;
  if (
    typeof backend !== 'object' ||
    backend === null ||
    methods.some((m) => typeof (backend as Record<string, unknown>)[m] !== 'function')
  ) {
    throw new InvalidArgumentError('backend', backend, `must implement ${methods.join(', ')}`);
  }
}

/** Checks a locker's options (also done by `connect()` before any I/O). */
export function checkLockerOptions(options: LockerOptions): void {
  checkOptions(options, 'options', LOCKER_OPTION_NAMES);
  if (options.ttl !== undefined) checkTtl(options.ttl, 'options.ttl');
  if (options.timeout !== undefined) checkNonNegative(options.timeout, 'options.timeout');
  if (options.identity !== undefined) {
    checkKey(options.identity, 'options.identity');
    if (/\s/.test(options.identity)) {
      throw new InvalidArgumentError(
        'options.identity',
        options.identity,
        'must not contain whitespace',
      );
    }
  }
  const keepalive = options.keepalive;
  if (keepalive !== undefined && typeof keepalive !== 'boolean') {
    checkOptions(keepalive, 'options.keepalive', ['interval']);
    if (keepalive.interval !== undefined)
      checkPositive(keepalive.interval, 'options.keepalive.interval');
  }
  if (options.driftFactor !== undefined) {
    if (
      typeof options.driftFactor !== 'number' ||
      !(options.driftFactor >= 0 && options.driftFactor < 0.5)
    ) {
      throw new InvalidArgumentError(
        'options.driftFactor',
        options.driftFactor,
        'must be a number in [0, 0.5)',
      );
    }
  }
  if (options.retry !== undefined) {
    checkOptions(options.retry, 'options.retry', ['minDelay', 'maxDelay', 'pollInterval']);
    for (const name of ['minDelay', 'maxDelay', 'pollInterval'] as const) {
      const value = options.retry[name];
      if (value !== undefined) checkPositive(value, `options.retry.${name}`);
    }
  }
  for (const name of ['onError', 'onRisk', 'onLost', 'onRenew'] as const) {
    if (options[name] !== undefined) checkFunction(options[name], `options.${name}`);
  }
  if (options.events !== undefined) {
    checkOptions(options.events, 'options.events', EVENT_NAMES);
    for (const [name, listener] of Object.entries(options.events)) {
      if (listener !== undefined) checkFunction(listener, `options.events.${name}`);
    }
  }
  if (options.clock !== undefined) {
    const clock = options.clock as unknown as Record<string, unknown>;
    if (['now', 'setTimeout', 'clearTimeout'].some((m) => typeof clock[m] !== 'function')) {
      throw new InvalidArgumentError(
        'options.clock',
        options.clock,
        'must have now, setTimeout and clearTimeout',
      );
    }
  }
}

function warnToConsole(error: unknown): void {
  const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.warn(`[@lock/core] ${described}`);
}
