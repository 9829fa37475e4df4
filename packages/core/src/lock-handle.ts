import type { LockBackend, OwnerCheckedResult } from './backend.js';
import type { Clock } from './clock.js';
import {
  BackendError,
  ForbiddenError,
  isLockError,
  LockLostError,
  type LostReason,
  NotFoundError,
  quoteKey,
} from './errors.js';
import type { LockEvents, LockObserver, ObservedLock } from './events.js';
import type { KeepaliveGroup } from './keepalive.js';
import { identityOf } from './token.js';
import { type Renewal, Validity } from './validity.js';

/** Passed to `onRisk` when a renewal failed but the lock still has time left. */
export interface RiskEvent {
  /** The lock at risk. */
  readonly lock: LockHandle;
  /** Milliseconds left before the lock counts as lost, by the local clock. */
  readonly remainingMs: number;
  /** Why the renewal failed. */
  readonly cause: unknown;
}

/** Passed to `onRenew` each time a renewal of a lock is confirmed. */
export interface RenewEvent {
  /** The renewed lock. */
  readonly lock: LockHandle;
  /** The lock's new certain validity, on the locker's clock (see {@link LockHandle.validUntil}). */
  readonly validUntil: number;
  /** The TTL the renewal asked for, in milliseconds. */
  readonly ttlMs: number;
  /** When the renewal was sent, on the locker's clock: validity counts from here. */
  readonly sentAt: number;
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
  /**
   * Called each time a renewal (keepalive or `extend`) is confirmed, with the lock's new certain
   * validity: the window in which the lock is held moves forward.
   */
  readonly onRenew?: ((event: RenewEvent) => void) | undefined;
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
  /**
   * Until when the lock is certainly held, on the locker's monotonic clock (`locker.clock.now()`;
   * `performance.now()` with the default clock): its last confirmed renewal's send time plus the
   * TTL, less the safety margin. Moves forward with each confirmed renewal; `signal` aborts at
   * or before it. Reading it changes nothing.
   */
  readonly validUntil: number;
  /** Throws the {@link LockLostError} unless the lock is still held; use before each guarded step. */
  assertHeld(): void;
  /**
   * Renews the lock now, optionally with a new TTL, which later renewals keep. Rejects with
   * {@link LockLostError} if the backend no longer has it for this owner, or with a
   * `BackendError` when the outcome is unknown (no reply): the lock is then judged by the shorter
   * of the old and new TTL, since the request may still be applied.
   */
  extend(ttlMs?: number): Promise<void>;
  /**
   * Releases the lock. Rejects with {@link LockLostError} if it had already been lost,
   * {@link NotFoundError} / {@link ForbiddenError} if the backend no longer had it for this
   * owner, or {@link BackendError}, in which case the lock is left to expire by its TTL.
   * Calling it again while a release is under way returns that release; after it, does nothing.
   */
  release(): Promise<void>;
}

/** What a lock needs from the locker that made it. */
export interface LockContext {
  readonly clock: Clock;
  readonly backend: LockBackend;
  /** Safety margin subtracted from every validity window (clock drift). */
  marginMs(ttlMs: number): number;
  /** Throws unless `ttl` is a TTL this locker can use (within limits, above the margins). */
  checkTtl(ttl: unknown, name: string): asserts ttl is number;
  /** Start keeping `lock` alive (or, with its keepalive off, just watching its expiry). */
  keep(lock: HeldLock): void;
  /** Stop keeping `lock` alive. */
  unkeep(lock: HeldLock): void;
  /** Registers a backend call under way, so the locker's `close()` waits for it. */
  inflight<T>(call: Promise<T>): Promise<T>;
  /** Reports an error nobody awaits (a failed background cleanup). */
  report(error: unknown): void;
  /** Where lock events go (listeners of the locker and its sessions). */
  readonly events: LockEvents;
  /** Reports a failed backend call as a `backend-error` event (when anyone listens). */
  backendError(error: unknown, key: string | undefined, operation: string, lock?: LockHandle): void;
}

type State = 'held' | 'released' | 'lost';

/** The {@link LockHandle} implementation. Internal: created by the locker. */
export class HeldLock implements ObservedLock {
  readonly key: string;
  readonly owner: string;
  readonly fence: number;
  /** Whether the locker renews this lock (else it only watches its expiry). */
  readonly keepalive: boolean;
  #ttlMs: number;
  readonly #validity: Validity;
  /** When the grant arrived, on the locker's clock. */
  readonly #acquiredAt: number;
  #state: State = 'held';
  #atRisk = false;
  #lostError: LockLostError | undefined;
  #releasing: Promise<void> | undefined;
  /** Created on first use of `signal`: most locks are never watched, and signals are not free. */
  #controller: AbortController | undefined;
  /** The keepalive group keeping this lock alive (set by the locker). */
  group: KeepaliveGroup | undefined;
  readonly #context: LockContext;
  readonly #callbacks: LockCallbacks | undefined;
  /** The observer that saw this lock granted, and what it keeps on it (see `LockObserver`). */
  observer: LockObserver | undefined = undefined;
  observation: unknown = undefined;

  /**
   * @param acquire the acquire request that made the lock (its send time and TTL: validity
   * counts from when it was sent, never from the reply).
   */
  constructor(
    context: LockContext,
    key: string,
    owner: string,
    fence: number,
    acquire: Renewal,
    keepalive: boolean,
    callbacks?: LockCallbacks,
  ) {
    this.#context = context;
    this.key = key;
    this.owner = owner;
    this.fence = fence;
    this.keepalive = keepalive;
    this.#ttlMs = acquire.ttlMs;
    this.#acquiredAt = context.clock.now();
    this.#validity = new Validity(acquire, this.#acquiredAt, (ttl) => context.marginMs(ttl));
    this.#callbacks = callbacks;
  }

  /** When the grant arrived, on the locker's clock. */
  get acquiredAt(): number {
    return this.#acquiredAt;
  }

  get identity(): string {
    return identityOf(this.owner);
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  get validUntil(): number {
    return this.#validity.until;
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
    return this.held ? Math.max(0, this.#validity.until - this.#context.clock.now()) : 0;
  }

  assertHeld(): void {
    if (!this.held) this.#throwNotHeld();
  }

  /**
   * Marks the lock lost if its validity has run out by the local clock, or will within
   * `leadMs` (the loss timer fires early by its lead, so that a late timer still aborts the
   * signal before the validity ends).
   */
  checkExpiry(leadMs = 0): void {
    if (this.#state === 'held') this.#expireIfPast(this.#context.clock.now(), leadMs);
  }

  /**
   * Right after the grant, in the same synchronous run as the clock read that dated it: throws
   * unless the lock is still valid as of that read (no second read: no time has passed that an
   * await could have let anything happen in).
   */
  assertHeldAtGrant(): void {
    if (this.#state === 'held') this.#expireIfPast(this.#acquiredAt);
    if (this.#state !== 'held') this.#throwNotHeld();
  }

  /** The error of a lock no longer held: why it was lost, or not found. */
  #throwNotHeld(): never {
    throw this.#lostError ?? new NotFoundError(this.key);
  }

  /** Marks the held lock lost if its validity has run out at `now`, or will within `leadMs`. */
  #expireIfPast(now: number, leadMs = 0): void {
    if (now >= this.#validity.until - leadMs) this.lose('expired');
  }

  /**
   * A renewal (`renewal.ttlMs` from `renewal.sentAt`) is being sent: until it is answered it
   * may be the last one the backend applies, so it bounds the validity already.
   */
  beginRenewal(renewal: Renewal): void {
    const before = this.#validity.until;
    this.#validity.begin(renewal);
    if (this.#validity.until < before) this.group?.noteValidity(this);
  }

  /** `renewal` was confirmed (possibly after it was given up on): the validity moves forward. */
  confirm(renewal: Renewal): void {
    this.checkExpiry();
    if (this.#state !== 'held') return;
    this.#validity.confirm(renewal, this.#context.clock.now());
    this.#atRisk = false;
    this.checkExpiry();
    if (this.#state !== 'held') return;
    this.#callbacks?.onRenew?.({
      lock: this,
      validUntil: this.#validity.until,
      ttlMs: renewal.ttlMs,
      sentAt: renewal.sentAt,
    });
    const events = this.#context.events;
    if (events.observer !== undefined) {
      events.tell('renewed', this, renewal.sentAt, renewal.ttlMs, this.#validity.until);
    }
    if (events.wants('renewed')) {
      events.emit('renewed', {
        key: this.key,
        lock: this,
        sentAt: renewal.sentAt,
        ttlMs: renewal.ttlMs,
        validUntil: this.#validity.until,
      });
    }
  }

  /**
   * No reply came for `renewal` (the backend could not be reached, or not in time): it may still
   * be applied, so it keeps bounding the validity; the lock is at risk.
   */
  renewalUnknown(renewal: Renewal, cause: unknown): void {
    this.#validity.unknown(renewal);
    this.markAtRisk(cause);
  }

  /** A renewal failed (the backend could not be reached): warn once, keep the deadline. */
  markAtRisk(cause: unknown): void {
    this.checkExpiry();
    if (this.#state !== 'held' || this.#atRisk) return;
    this.#atRisk = true;
    const remainingMs = Math.max(0, this.#validity.until - this.#context.clock.now());
    this.#callbacks?.onRisk?.({ lock: this, remainingMs, cause });
    const events = this.#context.events;
    if (events.observer !== undefined) events.tell('atRisk', this, remainingMs, cause);
    if (events.wants('at-risk')) {
      events.emit('at-risk', { key: this.key, lock: this, remainingMs, cause });
    }
  }

  /** The backend refused a renewal: the lock is gone. */
  refuse(renewal: Renewal, result: Exclude<OwnerCheckedResult, 'ok'>): void {
    this.#validity.drop(renewal);
    this.lose('refused', this.#refusal(result));
  }

  /** Marks the lock lost: stops its keepalive, aborts `signal`, tells `onLost`. */
  lose(reason: LostReason, cause?: unknown): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#lostError = new LockLostError(this.key, reason, cause);
    this.#context.unkeep(this);
    this.#controller?.abort(this.#lostError);
    this.#callbacks?.onLost?.(this.#lostError);
    this.#reportLost(reason);
    if (reason === 'expired' || reason === 'session-closed') {
      // We may still hold it on the server (our renewals hung); free it for the next holder.
      this.#context
        .inflight(this.#context.backend.release({ key: this.key, owner: this.owner }))
        .catch((error: unknown) => this.#context.report(error));
    }
  }

  async extend(ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined) this.#context.checkTtl(ttlMs, 'ttlMs');
    this.assertHeld();
    const ttl = ttlMs ?? this.#ttlMs;
    const renewal: Renewal = { sentAt: this.#context.clock.now(), ttlMs: ttl };
    this.beginRenewal(renewal);
    let result: OwnerCheckedResult;
    try {
      result = await this.#context.inflight(
        this.#context.backend.extend({ key: this.key, owner: this.owner, ttlMs: ttl }),
      );
    } catch (error) {
      const wrapped = asBackendError(error, this.key, 'extend');
      this.#context.backendError(wrapped, this.key, 'extend', this);
      this.renewalUnknown(renewal, wrapped);
      this.#keepTtl(ttl);
      throw wrapped;
    }
    if (result !== 'ok') {
      this.refuse(renewal, result);
      this.assertHeld();
    }
    this.confirm(renewal);
    this.#keepTtl(ttl);
    this.assertHeld();
  }

  release(): Promise<void> {
    // A release under way is shared (close() must wait for the one already sent); once it has
    // settled, releasing again does nothing.
    if (this.#releasing !== undefined) return this.#releasing;
    if (this.#state === 'released') return Promise.resolve();
    const releasing = this.#release();
    this.#releasing = releasing;
    const done = () => {
      this.#releasing = undefined;
    };
    releasing.then(done, done);
    return releasing;
  }

  async #release(): Promise<void> {
    // One clock read checks the validity and dates the send that follows in this same run (the
    // hold's end and the handoff, for whoever is told of the release).
    const sentAt = this.#context.clock.now();
    if (this.#state === 'held') this.#expireIfPast(sentAt);
    if (this.#state === 'lost') throw this.#lostError;
    this.#state = 'released';
    this.#context.unkeep(this);
    const events = this.#context.events;
    let result: OwnerCheckedResult;
    try {
      result = await this.#context.inflight(
        this.#context.backend.release({ key: this.key, owner: this.owner }),
      );
    } catch (error) {
      const wrapped = asBackendError(error, this.key, 'release');
      this.#context.backendError(wrapped, this.key, 'release', this);
      if (events.observer !== undefined) {
        events.tell('released', this, sentAt - this.#acquiredAt, sentAt, wrapped);
      }
      throw wrapped;
    }
    if (result !== 'ok') {
      const refusal = this.#refusal(result);
      this.#lostError = new LockLostError(this.key, 'released-elsewhere', refusal);
      this.#controller?.abort(this.#lostError);
      this.#reportLost('released-elsewhere');
      throw refusal;
    }
    const observed = events.observer !== undefined;
    if (!observed && !events.wants('released')) return;
    // The hold ends when its holder let go (the release's send): how long the lock was used,
    // not that plus the release's round trip.
    const holdMs = sentAt - this.#acquiredAt;
    if (observed) events.observeReleased(this, holdMs, sentAt);
    if (events.wants('released'))
      events.emit('released', { key: this.key, lock: this, holdMs, sentAt });
  }

  #reportLost(reason: LostReason): void {
    const events = this.#context.events;
    const observed = events.observer !== undefined;
    if (!observed && !events.wants('lost')) return;
    const now = this.#context.clock.now();
    const holdMs = now - this.#acquiredAt;
    const sinceLastRenewalMs = now - this.#validity.lastConfirmedAt;
    const beforeValidityEndMs = this.#validity.until - now;
    if (observed)
      events.tell('lost', this, reason, holdMs, sinceLastRenewalMs, beforeValidityEndMs);
    if (!events.wants('lost')) return;
    events.emit('lost', {
      key: this.key,
      lock: this,
      reason,
      holdMs,
      sinceLastRenewalMs,
      beforeValidityEndMs,
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** Later renewals use `ttl` (the locker regroups the lock for keepalive). */
  #keepTtl(ttl: number): void {
    if (ttl === this.#ttlMs || this.#state !== 'held') return;
    this.#context.unkeep(this);
    this.#ttlMs = ttl;
    this.#context.keep(this);
  }

  #refusal(result: Exclude<OwnerCheckedResult, 'ok'>): NotFoundError | ForbiddenError {
    return result === 'not-found' ? new NotFoundError(this.key) : new ForbiddenError(this.key);
  }
}

/** Keeps a `LockError` as is; wraps anything else in a {@link BackendError} with it as `cause`. */
export function asBackendError(error: unknown, key: string | undefined, operation: string): Error {
  if (isLockError(error)) return error;
  return new BackendError(
    `${operation}${key === undefined ? '' : ` of lock ${quoteKey(key)}`} failed`,
    {
      cause: error,
      key,
    },
  );
}
