import type { LockBackend, OwnerCheckedResult } from './backend.js';
import type { Clock } from './clock.js';
import {
  BackendError,
  ForbiddenError,
  isLockError,
  LockLostError,
  type LostReason,
  NotFoundError,
} from './errors.js';
import type { KeepaliveGroup } from './keepalive.js';
import { identityOf } from './token.js';
import { checkPositive } from './validate.js';

/** Passed to `onRisk` when a renewal failed but the lock still has time left. */
export interface RiskEvent {
  /** The lock at risk. */
  readonly lock: LockHandle;
  /** Milliseconds left before the lock counts as lost, by the local clock. */
  readonly remainingMs: number;
  /** Why the renewal failed. */
  readonly cause: unknown;
}

/** Callbacks a lock reports to. */
export interface LockCallbacks {
  /**
   * Called once when a renewal fails while the lock still has time: the first stage of loss.
   * Finish or checkpoint quickly; the lock's `signal` aborts if no renewal succeeds in time.
   */
  readonly onRisk?: ((event: RiskEvent) => void) | undefined;
  /** Called once when the lock is lost (the second stage), just as its `signal` aborts. */
  readonly onLost?: ((error: LockLostError) => void) | undefined;
}

/**
 * A held lock. Keep it alive (automatic by default), watch `signal`, then `release()` it or let
 * `await using` do so.
 * @example
 * ```ts
 * await using lock = await locker.lock('invoice:42', { timeout: 5_000 });
 * await storage.write(data, { fence: lock.fence, signal: lock.signal });
 * ```
 */
export interface LockHandle extends AsyncDisposable {
  /** The key this lock holds. */
  readonly key: string;
  /** This acquisition's owner token: unique, unguessable; the proof of ownership. Keep it private. */
  readonly owner: string;
  /** The public identity of the locker that holds it (the part of `owner` before the last dot). */
  readonly identity: string;
  /**
   * Fencing token: strictly larger than every token handed out before for this key. Pass it to
   * the resource you protect and have it reject writes carrying a smaller one.
   */
  readonly fence: number;
  /** The TTL the lock is kept with, in milliseconds. */
  readonly ttlMs: number;
  /**
   * Aborted, with a {@link LockLostError} as `reason`, the moment the lock is lost: a renewal
   * was refused, or no renewal was confirmed in time by the local monotonic clock.
   */
  readonly signal: AbortSignal;
  /**
   * Whether the lock is still held, judged now by the local clock. Reading it after a long pause
   * (a stopped process, a blocked event loop) reports `false` and aborts `signal` at once.
   */
  readonly held: boolean;
  /** True from a failed renewal until the next one succeeds: the lock may be lost soon. */
  readonly atRisk: boolean;
  /** Milliseconds of certain validity left by the local clock (0 once lost or released). */
  readonly remainingMs: number;
  /** Throws the {@link LockLostError} unless the lock is still held; use before each guarded step. */
  assertHeld(): void;
  /**
   * Renews the lock now, optionally with a new TTL. Rejects with {@link LockLostError} if the
   * backend no longer has it for this owner.
   */
  extend(ttlMs?: number): Promise<void>;
  /**
   * Releases the lock. Rejects with {@link LockLostError} if it had already been lost,
   * {@link NotFoundError} / {@link ForbiddenError} if the backend no longer had it for this
   * owner, or {@link BackendError}, in which case the lock is left to expire by its TTL.
   * Releasing twice does nothing the second time.
   */
  release(): Promise<void>;
}

/** What a lock needs from the locker that made it. */
export interface LockContext {
  readonly clock: Clock;
  readonly backend: LockBackend;
  /** Safety margin subtracted from every validity window. */
  driftMs(ttlMs: number): number;
  /** Start keeping `lock` alive (or, with keepalive off, just watching its expiry). */
  track(lock: HeldLock): void;
  /** Stop keeping `lock` alive. */
  untrack(lock: HeldLock): void;
  /** Reports an error nobody awaits (a failed background cleanup). */
  report(error: unknown): void;
}

type State = 'held' | 'released' | 'lost';

/** The {@link LockHandle} implementation. Internal: created by the locker. */
export class HeldLock implements LockHandle {
  readonly key: string;
  readonly owner: string;
  readonly fence: number;
  #ttlMs: number;
  #validUntil: number;
  #state: State = 'held';
  #atRisk = false;
  #lostError: LockLostError | undefined;
  /** Created on first use of `signal`: most locks are never watched, and signals are not free. */
  #controller: AbortController | undefined;
  /** The keepalive group keeping this lock alive (set by the locker). */
  group: KeepaliveGroup | undefined;
  readonly #context: LockContext;
  readonly #callbacks: LockCallbacks | undefined;

  constructor(
    context: LockContext,
    key: string,
    owner: string,
    fence: number,
    ttlMs: number,
    sentAt: number,
    callbacks?: LockCallbacks,
  ) {
    this.#context = context;
    this.key = key;
    this.owner = owner;
    this.fence = fence;
    this.#ttlMs = ttlMs;
    this.#validUntil = sentAt + ttlMs - context.driftMs(ttlMs);
    this.#callbacks = callbacks;
  }

  get identity(): string {
    return identityOf(this.owner);
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** Local-clock time until which the lock is certainly valid. */
  get validUntil(): number {
    return this.#validUntil;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#lostError !== undefined) this.#controller.abort(this.#lostError);
    }
    return this.#controller.signal;
  }

  get held(): boolean {
    this.checkExpiry();
    return this.#state === 'held';
  }

  get atRisk(): boolean {
    return this.#atRisk && this.held;
  }

  get remainingMs(): number {
    return this.held ? Math.max(0, this.#validUntil - this.#context.clock.now()) : 0;
  }

  assertHeld(): void {
    if (this.held) return;
    throw this.#lostError ?? new NotFoundError(this.key);
  }

  /** Marks the lock lost if its validity has run out by the local clock. */
  checkExpiry(): void {
    if (this.#state === 'held' && this.#context.clock.now() >= this.#validUntil) {
      this.lose('expired');
    }
  }

  /** A renewal sent at `sentAt` was confirmed: the lock is valid until `sentAt + ttl − drift`. */
  confirm(sentAt: number, ttlMs: number): void {
    this.checkExpiry();
    if (this.#state !== 'held') return;
    this.#validUntil = Math.max(this.#validUntil, sentAt + ttlMs - this.#context.driftMs(ttlMs));
    this.#atRisk = false;
  }

  /** A renewal failed (the backend could not be reached): warn once, keep the deadline. */
  markAtRisk(cause: unknown): void {
    this.checkExpiry();
    if (this.#state !== 'held' || this.#atRisk) return;
    this.#atRisk = true;
    const remainingMs = Math.max(0, this.#validUntil - this.#context.clock.now());
    this.#callbacks?.onRisk?.({ lock: this, remainingMs, cause });
  }

  /** The backend refused a renewal: the lock is gone. */
  refuse(result: Exclude<OwnerCheckedResult, 'ok'>): void {
    this.lose('refused', this.#refusal(result));
  }

  /** Marks the lock lost: stops its keepalive, aborts `signal`, tells `onLost`. */
  lose(reason: LostReason, cause?: unknown): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#lostError = new LockLostError(this.key, reason, cause);
    this.#context.untrack(this);
    this.#controller?.abort(this.#lostError);
    this.#callbacks?.onLost?.(this.#lostError);
    if (reason === 'expired' || reason === 'session-closed') {
      // We may still hold it on the server (our renewals hung); free it for the next holder.
      this.#context.backend
        .release({ key: this.key, owner: this.owner })
        .catch((error: unknown) => this.#context.report(error));
    }
  }

  async extend(ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined) checkPositive(ttlMs, 'ttlMs');
    this.assertHeld();
    const ttl = ttlMs ?? this.#ttlMs;
    const sentAt = this.#context.clock.now();
    let result: OwnerCheckedResult;
    try {
      result = await this.#context.backend.extend({ key: this.key, owner: this.owner, ttlMs: ttl });
    } catch (error) {
      const wrapped = asBackendError(error, this.key, 'extend');
      this.markAtRisk(wrapped);
      throw wrapped;
    }
    if (result !== 'ok') {
      this.refuse(result);
      this.assertHeld();
    }
    this.checkExpiry();
    this.assertHeld();
    if (ttl !== this.#ttlMs) {
      this.#context.untrack(this);
      this.#ttlMs = ttl;
      this.#validUntil = sentAt + ttl - this.#context.driftMs(ttl);
      this.#context.track(this);
    } else {
      this.confirm(sentAt, ttl);
    }
    this.#atRisk = false;
  }

  async release(): Promise<void> {
    if (this.#state === 'released') return;
    this.checkExpiry();
    if (this.#state === 'lost') throw this.#lostError;
    this.#state = 'released';
    this.#context.untrack(this);
    let result: OwnerCheckedResult;
    try {
      result = await this.#context.backend.release({ key: this.key, owner: this.owner });
    } catch (error) {
      throw asBackendError(error, this.key, 'release');
    }
    if (result !== 'ok') {
      const refusal = this.#refusal(result);
      this.#lostError = new LockLostError(this.key, 'released-elsewhere', refusal);
      this.#controller?.abort(this.#lostError);
      throw refusal;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  #refusal(result: Exclude<OwnerCheckedResult, 'ok'>): NotFoundError | ForbiddenError {
    return result === 'not-found' ? new NotFoundError(this.key) : new ForbiddenError(this.key);
  }
}

/** Keeps a `LockError` as is; wraps anything else in a {@link BackendError} with it as `cause`. */
export function asBackendError(error: unknown, key: string | undefined, operation: string): Error {
  if (isLockError(error)) return error;
  return new BackendError(`${operation}${key === undefined ? '' : ` of lock "${key}"`} failed`, {
    cause: error,
    key,
  });
}
