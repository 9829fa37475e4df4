import type { Clock } from './clock.js';
import type { LockEventHandlers } from './events.js';
import type { LockCallbacks } from './lock-handle.js';

/** How a locker keeps its locks alive. */
export interface KeepaliveOptions {
  /**
   * Milliseconds between renewals.
   * @default a third of the lock's TTL
   */
  readonly interval?: number;
}

/** How a locker waits for a held lock when the backend has no fair queue of its own. */
export interface RetryOptions {
  /**
   * First backoff delay between attempts when the backend has no notifications.
   * @default 2
   */
  readonly minDelay?: number;
  /**
   * Largest backoff delay between attempts when the backend has no notifications.
   * @default 100
   */
  readonly maxDelay?: number;
  /**
   * Safety poll while waiting on a backend that notifies (`watch`): a lost notification costs
   * at most this long. Waiters also wake when the holder's TTL runs out.
   * @default 1000
   */
  readonly pollInterval?: number;
}

/** Options of {@link createLocker} and `connect`. */
export interface LockerOptions extends LockCallbacks {
  /**
   * Default time to live of each lock, in milliseconds. Keepalive renews it; it only runs out
   * if this process stops renewing (crash, pause, partition).
   * @default 30000
   */
  readonly ttl?: number;
  /**
   * Default longest wait of `lock()` and `withLock()`, in milliseconds (src-d's session
   * timeout); a call's own `timeout` overrides it. `0` makes a single attempt.
   * @default Infinity
   */
  readonly timeout?: number;
  /**
   * Public name of this locker, shown to others as the holder (`NotAcquiredError.holder`).
   * Must not contain secrets.
   * @default a random "locker-…" name
   */
  readonly identity?: string;
  /**
   * Renew held locks automatically (`true`), never (`false`), or at a set interval.
   * @default true
   */
  readonly keepalive?: boolean | KeepaliveOptions;
  /**
   * Fraction of the TTL subtracted from every validity window for clock drift between this
   * process and the backend; 2 ms are always subtracted on top.
   * @default 0.01
   */
  readonly driftFactor?: number;
  /** Backoff and poll intervals while waiting. */
  readonly retry?: RetryOptions;
  /**
   * Where errors go that no caller awaits (a failed background cleanup, a failed release after
   * `withLock`'s routine succeeded). Messages never contain owner tokens or passwords.
   * @default writes a one-line warning with `console.warn`
   */
  readonly onError?: ((error: unknown) => void) | undefined;
  /**
   * Time source. Swap in `ManualClock` from `@lock/core/testing` for deterministic tests.
   * @default systemClock
   */
  readonly clock?: Clock;
  /**
   * Listeners of lock events, by name (the same as `locker.on(name, listener)`): acquire
   * attempted, acquired, denied, renewed, at risk, lost, released, backend error. They also
   * hear this locker's sessions. Nothing is built for an event nobody listens to.
   * @example
   * ```ts
   * const locker = createLocker(backend, {
   *   events: { lost: (e) => console.warn(`${e.key} lost (${e.reason})`) },
   * });
   * ```
   */
  readonly events?: LockEventHandlers;
}

/** Option names {@link LockerOptions} accepts, for unknown-option checks. */
export const LOCKER_OPTION_NAMES = [
  'ttl',
  'timeout',
  'identity',
  'keepalive',
  'driftFactor',
  'retry',
  'onError',
  'clock',
  'onRisk',
  'onLost',
  'onRenew',
  'events',
] as const;

/** Options of one `tryLock`. */
export interface TryLockOptions extends LockCallbacks {
  /**
   * Time to live of this lock in milliseconds.
   * @default the locker's `ttl`
   */
  readonly ttl?: number;
  /**
   * Keep this lock alive automatically.
   * @default the locker's `keepalive`
   */
  readonly keepalive?: boolean;
}

/** Options of one blocking `lock` (and `withLock`). */
export interface LockOptions extends TryLockOptions {
  /**
   * Longest time to wait, in milliseconds, counted from the call; then it rejects with
   * `LockTimeoutError`. `0` makes a single attempt.
   * @default the locker's `timeout` (Infinity unless set)
   */
  readonly timeout?: number;
  /** Stops the wait at once when aborted (rejects with `LockAbortedError`). */
  readonly signal?: AbortSignal;
}

/** Option names of {@link LockOptions}. */
export const LOCK_OPTION_NAMES = [
  'ttl',
  'keepalive',
  'timeout',
  'signal',
  'onRisk',
  'onLost',
  'onRenew',
] as const;
/** Option names of {@link TryLockOptions}. */
export const TRY_LOCK_OPTION_NAMES = ['ttl', 'keepalive', 'onRisk', 'onLost', 'onRenew'] as const;

/** What `inspect()` tells about a key. */
export interface LockInfo {
  /** Public identity of the holder (never its secret token). */
  readonly holder: string;
  /** Milliseconds the holder still has, when the backend can tell. */
  readonly remainingMs: number | undefined;
  /** Fence of the current holding, when the backend can tell. */
  readonly fence: number | undefined;
}
