/**
 * The client side of semaphores and read-write locks: validation, the wait in line, and the
 * handles. A handle is a {@link HeldLock} whose context talks to the semaphore operations, so
 * keepalive, validity, loss detection, events and `close()` are the lock machinery itself.
 * @module
 */
import {
  type ExtendRequest,
  type LockBackend,
  MAX_PERMITS,
  RW_PERMITS,
  type SemaphoreAcquireRequest,
  type SemaphoreAcquireResult,
  type SemaphoreGranted,
  type SemaphoreMismatch,
  type SemaphoreMode,
} from './backend.js';
import type { Clock } from './clock.js';
import {
  InvalidArgumentError,
  isLockError,
  LockError,
  LockTimeoutError,
  NotAcquiredError,
} from './errors.js';
import { nextCall } from './events.js';
import { asBackendError, HeldLock, type LockCallbacks, type LockContext } from './lock-handle.js';
import {
  LOCK_OPTION_NAMES,
  type LockOptions,
  TRY_LOCK_OPTION_NAMES,
  type TryLockOptions,
} from './options.js';
import { RecordSemaphores, type SemaphoreOps } from './semaphore-record.js';
import type {
  AcquireOptions,
  PermitHandle,
  ReadWriteLock,
  Semaphore,
  SemaphoreInfo,
  TryAcquireOptions,
} from './semaphore-types.js';
import { identityOf, newOwnerToken } from './token.js';
import { checkNonNegative, checkOptions, checkSignal } from './validate.js';
import { backoffDelay, raceSignal, sleep } from './wait.js';

/** What semaphores need from the locker that made them. */
export interface SemaphoreContext {
  /** The semaphore operations: the backend's own, or core's record fallback. */
  readonly ops: SemaphoreOps;
  /** The backend (for `watch`). */
  readonly backend: LockBackend;
  /** A lock context whose backend is {@link semaphoreLockView} of `ops`: handles use it. */
  readonly lockContext: LockContext;
  readonly identity: string;
  /** The TTL of a call (checked), from its options or the locker's default. */
  ttlOf(options: TryLockOptions | undefined): number;
  /** The locker's default timeout. */
  readonly timeout: number;
  /** The locker's callbacks, overridden by a call's own. */
  callbacksOf(options: TryLockOptions | undefined): LockCallbacks;
  /** Safety poll while waiting on a backend that notifies. */
  readonly pollInterval: number;
  readonly retry: { readonly minDelay: number; readonly maxDelay: number };
  /** One signal that ends a wait: caller's abort, the deadline, the locker closing. */
  stopSignal(
    key: string,
    timeout: number,
    deadline: number,
    user: AbortSignal | undefined,
  ): { signal: AbortSignal; dispose: () => void };
  /** Throws once the locker is closed. */
  assertOpen(): void;
  /** Aborted once the locker closes. */
  readonly closed: AbortSignal;
  /** Keeps the process alive while a blocking call is pending. */
  holdProcessWhile<T>(call: Promise<T>): Promise<T>;
}

/**
 * The semaphore operations of `backend`: its native methods, else core's fallback over its
 * record primitive (the operations `locker.semaphore()` runs on; exported for tests and tools).
 * Throws when it has neither.
 */
export function semaphoreOpsOf(backend: LockBackend, clock: Clock): SemaphoreOps {
  const {
    semaphoreAcquire,
    semaphoreExtend,
    semaphoreRelease,
    semaphoreInspect,
    semaphoreExtendMany,
  } = backend;
  if (
    semaphoreAcquire !== undefined &&
    semaphoreExtend !== undefined &&
    semaphoreRelease !== undefined &&
    semaphoreInspect !== undefined
  ) {
    return {
      acquire: (request) => semaphoreAcquire.call(backend, request),
      extend: (request) => semaphoreExtend.call(backend, request),
      extendMany:
        semaphoreExtendMany === undefined
          ? undefined
          : (requests) => semaphoreExtendMany.call(backend, requests),
      release: (request) => semaphoreRelease.call(backend, request),
      inspect: (key) => semaphoreInspect.call(backend, key),
    };
  }
  if (backend.readRecord !== undefined && backend.writeRecord !== undefined) {
    return new RecordSemaphores(backend, clock);
  }
  throw new LockError(
    'UNSUPPORTED_SERVICE',
    `the "${backend.name}" backend serves no semaphores or read-write locks (${backend.semaphoresUnsupported ?? 'it has neither semaphoreAcquire… nor readRecord/writeRecord'})`,
  );
}

/**
 * `ops` dressed as a {@link LockBackend}, for the lock machinery behind the handles: their
 * extend, release and keepalive batches go to the semaphore operations. Never asked to acquire.
 */
export function semaphoreLockView(backend: LockBackend, ops: SemaphoreOps): LockBackend {
  const view: LockBackend = {
    name: backend.name,
    acquire: () => Promise.reject(new Error('a semaphore handle never acquires')),
    extend: (request) => ops.extend(request),
    release: (request) => ops.release(request),
    inspect: () => Promise.resolve(undefined),
    close: () => Promise.resolve(),
  };
  const many = ops.extendMany;
  // Called on `ops`: core's fallback (RecordSemaphores) is a class with private fields.
  if (many !== undefined) {
    view.extendMany = (requests: readonly ExtendRequest[]) => many.call(ops, requests);
  }
  return view;
}

/** Throws unless `permits` is an integer in `1..MAX_PERMITS`. */
export function checkPermits(
  permits: unknown,
  name = 'options.permits',
): asserts permits is number {
  if (
    typeof permits !== 'number' ||
    !Number.isInteger(permits) ||
    permits < 1 ||
    permits > MAX_PERMITS
  ) {
    throw new InvalidArgumentError(
      name,
      permits,
      `must be an integer from 1 to ${MAX_PERMITS} (MAX_PERMITS: every holder is one entry of one record)`,
    );
  }
}

/** Throws unless `count` is an integer in `1..permits`. */
function checkCount(count: unknown, permits: number): asserts count is number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > permits) {
    throw new InvalidArgumentError(
      'options.count',
      count,
      `must be an integer from 1 to the semaphore's ${permits} permits`,
    );
  }
}

/** A semaphore's or read-write lock's held share. */
class HeldPermit extends HeldLock implements PermitHandle {
  readonly count: number;
  readonly mode: SemaphoreMode;
  constructor(
    context: LockContext,
    key: string,
    owner: string,
    grant: SemaphoreGranted,
    sentAt: number,
    ttl: number,
    keepalive: boolean,
    callbacks: LockCallbacks,
    count: number,
    mode: SemaphoreMode,
  ) {
    super(
      context,
      key,
      owner,
      grant.fence,
      { sentAt, ttlMs: Math.min(ttl, grant.ttlMs ?? ttl) },
      keepalive,
      callbacks,
    );
    this.count = count;
    this.mode = mode;
  }
}

const ACQUIRE_OPTION_NAMES = [...LOCK_OPTION_NAMES, 'count'] as const;
const TRY_ACQUIRE_OPTION_NAMES = [...TRY_LOCK_OPTION_NAMES, 'count'] as const;

/** One key's semaphore or read-write lock, as a caller sees it. */
export class SemaphoreClient implements Semaphore, ReadWriteLock {
  readonly key: string;
  readonly permits: number;
  readonly #context: SemaphoreContext;

  constructor(context: SemaphoreContext, key: string, permits: number) {
    this.#context = context;
    this.key = key;
    this.permits = permits;
  }

  async acquire(options?: AcquireOptions): Promise<PermitHandle> {
    checkOptions(options, 'options', ACQUIRE_OPTION_NAMES);
    const count = options?.count ?? 1;
    checkCount(count, this.permits);
    return this.#wait('permit', count, options);
  }

  async tryAcquire(options?: TryAcquireOptions): Promise<PermitHandle> {
    checkOptions(options, 'options', TRY_ACQUIRE_OPTION_NAMES);
    const count = options?.count ?? 1;
    checkCount(count, this.permits);
    return this.#try('permit', count, options);
  }

  async read(options?: LockOptions): Promise<PermitHandle> {
    checkOptions(options, 'options', LOCK_OPTION_NAMES);
    return this.#wait('read', 1, options);
  }

  async write(options?: LockOptions): Promise<PermitHandle> {
    checkOptions(options, 'options', LOCK_OPTION_NAMES);
    return this.#wait('write', RW_PERMITS, options);
  }

  async tryRead(options?: TryLockOptions): Promise<PermitHandle> {
    checkOptions(options, 'options', TRY_LOCK_OPTION_NAMES);
    return this.#try('read', 1, options);
  }

  async tryWrite(options?: TryLockOptions): Promise<PermitHandle> {
    checkOptions(options, 'options', TRY_LOCK_OPTION_NAMES);
    return this.#try('write', RW_PERMITS, options);
  }

  async inspect(): Promise<SemaphoreInfo | undefined> {
    const context = this.#context;
    context.assertOpen();
    let info: Awaited<ReturnType<SemaphoreOps['inspect']>>;
    try {
      info = await context.lockContext.inflight(context.ops.inspect(this.key));
    } catch (error) {
      throw this.#backendError(error, 'inspect');
    }
    if (info === undefined) return undefined;
    return {
      kind: info.kind,
      permits: info.permits,
      inUse: info.inUse,
      waiting: info.waiting,
      fence: info.fence,
      holders: info.holders.map((h) => ({
        holder: identityOf(h.owner),
        count: h.count,
        mode: h.mode,
        fence: h.fence,
        remainingMs: h.remainingMs,
      })),
    };
  }

  async #try(
    mode: SemaphoreMode,
    count: number,
    options: TryLockOptions | undefined,
  ): Promise<PermitHandle> {
    const context = this.#context;
    const ttl = context.ttlOf(options);
    context.assertOpen();
    const request = this.#request(mode, count, ttl, false);
    const call = nextCall();
    const sentAt = context.lockContext.clock.now();
    this.#attempted(call, 1);
    const result = await this.#once(request);
    if (result.acquired) return this.#adopt(request, result, sentAt, options, call, sentAt, 1);
    this.#denied(call, result);
    if (result.mismatch !== undefined) throw this.#mismatch(result, mode);
    throw new NotAcquiredError(this.key, undefined, result.retryAfterMs);
  }

  #wait(
    mode: SemaphoreMode,
    count: number,
    options: LockOptions | undefined,
  ): Promise<PermitHandle> {
    const context = this.#context;
    const ttl = context.ttlOf(options);
    const timeout = options?.timeout ?? context.timeout;
    checkNonNegative(timeout, 'options.timeout');
    if (options?.signal !== undefined) checkSignal(options.signal, 'options.signal');
    context.assertOpen();
    return context.lockContext.inflight(
      context.holdProcessWhile(this.#waitInLine(mode, count, ttl, timeout, options)),
    );
  }

  async #waitInLine(
    mode: SemaphoreMode,
    count: number,
    ttl: number,
    timeout: number,
    options: LockOptions | undefined,
  ): Promise<PermitHandle> {
    const context = this.#context;
    const clock = context.lockContext.clock;
    const since = clock.now();
    const deadline = since + timeout;
    const call = nextCall();
    const request = this.#request(mode, count, ttl, true);
    const stop = context.stopSignal(this.key, timeout, deadline, options?.signal);
    let woken = false;
    let wake: (() => void) | undefined;
    let unsubscribe: (() => void | Promise<void>) | undefined;
    /** The last attempt sent: a give-up waits for it before it leaves the line. */
    let last: Promise<unknown> | undefined;
    let attempts = 0;
    try {
      const watch = context.backend.watch;
      if (watch !== undefined) {
        // Subscribed before the first try, so a release between a denial and the sleep still wakes us.
        unsubscribe = await raceSignal(
          Promise.resolve(
            watch.call(context.backend, this.key, () => {
              woken = true;
              wake?.();
            }),
          ),
          stop.signal,
        );
      }
      for (;;) {
        if (stop.signal.aborted) throw stop.signal.reason;
        woken = false;
        const sentAt = clock.now();
        attempts += 1;
        this.#attempted(call, attempts);
        const attempt = this.#once(request);
        last = attempt;
        const result = await raceSignal(attempt, stop.signal);
        if (result.acquired) {
          last = undefined;
          return this.#adopt(request, result, sentAt, options, call, since, attempts);
        }
        this.#denied(call, result);
        if (result.mismatch !== undefined) throw this.#mismatch(result, mode);
        const now = clock.now();
        if (now >= deadline) throw new LockTimeoutError(this.key, timeout);
        // Come back before our place in line expires, when a holder or a waiter ahead expires,
        // and (with notifications) at the safety poll; else back off with jitter.
        let delay = Math.min(
          unsubscribe === undefined
            ? backoffDelay(attempts, context.retry.minDelay, context.retry.maxDelay)
            : context.pollInterval,
          ttl / 3,
          deadline - now,
        );
        if (result.retryAfterMs !== undefined) delay = Math.min(delay, result.retryAfterMs + 1);
        if (!woken) {
          await sleep(clock, delay, stop.signal, (resume) => {
            wake = resume;
          });
        }
        wake = undefined;
      }
    } catch (error) {
      const events = context.lockContext.events;
      if (events.wants('acquire-failed')) {
        events.emit('acquire-failed', {
          key: this.key,
          call,
          waitMs: clock.now() - since,
          attempts,
          code: isLockError(error) ? error.code : 'BACKEND',
          error,
        });
      }
      throw error;
    } finally {
      stop.dispose();
      if (unsubscribe !== undefined) {
        Promise.resolve(unsubscribe()).catch((error: unknown) => context.lockContext.report(error));
      }
      // Not granted (timed out, aborted, closed, failed): leave the line, after the attempt
      // still under way has landed, so a late grant or a late place in line is handed back.
      if (last !== undefined) this.#leave(request.owner, last);
    }
  }

  #request(
    mode: SemaphoreMode,
    count: number,
    ttlMs: number,
    wait: boolean,
  ): SemaphoreAcquireRequest {
    const permits = mode === 'permit' ? this.permits : RW_PERMITS;
    const owner = newOwnerToken(this.#context.identity);
    return { key: this.key, owner, mode, count, permits, ttlMs, wait };
  }

  /** One attempt; a failure (no reply) hands back whatever it may have taken, owner-checked. */
  async #once(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult> {
    const context = this.#context;
    try {
      return await context.lockContext.inflight(context.ops.acquire(request));
    } catch (error) {
      const wrapped = this.#backendError(error, 'acquire');
      if (isLockError(wrapped, 'BACKEND')) this.#leave(request.owner, Promise.resolve());
      throw wrapped;
    }
  }

  /** Owner-checked release in the background: leaves the line, hands back a late grant. */
  #leave(owner: string, after: Promise<unknown>): void {
    const context = this.#context;
    const leaving = after
      .catch(() => {})
      .then(() => context.ops.release({ key: this.key, owner }))
      .catch(() => {});
    void context.lockContext.inflight(leaving);
  }

  #adopt(
    request: SemaphoreAcquireRequest,
    grant: SemaphoreGranted,
    sentAt: number,
    options: TryLockOptions | undefined,
    call: number,
    since: number,
    attempts: number,
  ): PermitHandle {
    const context = this.#context;
    const lock = new HeldPermit(
      context.lockContext,
      this.key,
      request.owner,
      grant,
      sentAt,
      request.ttlMs,
      options?.keepalive ?? true,
      context.callbacksOf(options),
      request.count,
      request.mode,
    );
    context.lockContext.keep(lock);
    if (context.closed.aborted) {
      // Closed while the acquire was in flight: hand the permits straight back.
      lock.release().catch((error: unknown) => context.lockContext.report(error));
      throw context.closed.reason;
    }
    lock.assertHeldAtGrant();
    const events = context.lockContext.events;
    if (events.wants('acquired')) {
      events.emit('acquired', {
        key: this.key,
        call,
        lock,
        waitMs: context.lockContext.clock.now() - since,
        attempts,
        contended: attempts > 1,
      });
    }
    return lock;
  }

  #attempted(call: number, attempt: number): void {
    const events = this.#context.lockContext.events;
    if (events.wants('acquire-attempted')) {
      events.emit('acquire-attempted', { key: this.key, call, attempt });
    }
  }

  #denied(call: number, result: SemaphoreAcquireResult): void {
    const events = this.#context.lockContext.events;
    if (result.acquired || result.mismatch !== undefined || !events.wants('denied')) return;
    events.emit('denied', {
      key: this.key,
      call,
      holder: undefined,
      remainingMs: result.retryAfterMs,
    });
  }

  #mismatch(result: SemaphoreMismatch, mode: SemaphoreMode): InvalidArgumentError {
    const { kind, permits } = result.mismatch;
    if (kind === 'read-write' || mode !== 'permit') {
      return new InvalidArgumentError(
        'key',
        this.key,
        `is in use as a ${kind === 'read-write' ? 'read-write lock' : `semaphore of ${permits} permits`}; a key is one kind at a time (it can change once it has no holders and no waiters)`,
      );
    }
    return new InvalidArgumentError(
      'options.permits',
      this.permits,
      `must be the key's permit count while it has holders or waiters: ${JSON.stringify(this.key).slice(0, 82)} has ${permits} (it can change once the key has none)`,
    );
  }

  #backendError(error: unknown, operation: string): Error {
    const wrapped = asBackendError(error, this.key, operation);
    this.#context.lockContext.backendError(wrapped, this.key, operation);
    return wrapped;
  }
}
