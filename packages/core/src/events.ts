import type { LockErrorCode, LostReason } from './errors.js';
import type { LockHandle } from './lock-handle.js';
import { checkFunction } from './validate.js';

/**
 * What a locker reports about its locks, by event name. Times are milliseconds on the locker's
 * clock (`performance.now()` by default).
 */
export interface LockEventMap {
  /** One attempt to take `key` is about to go to the backend (tryLock, each try of lock()). */
  'acquire-attempted': {
    readonly key: string;
    /** The acquire call this attempt belongs to (unique in this process). */
    readonly call: number;
    readonly attempt: number;
  };
  /** `key` was taken. */
  acquired: {
    readonly key: string;
    /** The acquire call (as in `acquire-attempted`). */
    readonly call: number;
    readonly lock: LockHandle;
    /** From the call to the grant. */
    readonly waitMs: number;
    /** Attempts made (a fair queue's wait counts as one). */
    readonly attempts: number;
    /** Whether the call had to wait for another holder (contention). */
    readonly contended: boolean;
  };
  /**
   * An acquire call ended without the lock: timed out, aborted, closed, or the backend failed
   * (a `tryLock` that finds the key held reports `denied` only).
   */
  'acquire-failed': {
    readonly key: string;
    readonly call: number;
    /** From the call to its end. */
    readonly waitMs: number;
    readonly attempts: number;
    readonly code: LockErrorCode;
    readonly error: unknown;
  };
  /** An attempt found `key` held by someone else. */
  denied: {
    readonly key: string;
    readonly call: number;
    /** The holder's public identity, when the backend tells. */
    readonly holder: string | undefined;
    readonly remainingMs: number | undefined;
  };
  /** A renewal (keepalive or `extend()`) was confirmed. */
  renewed: {
    readonly key: string;
    readonly lock: LockHandle;
    /** When the renewal was sent: validity counts from here. */
    readonly sentAt: number;
    readonly ttlMs: number;
    /** The lock's new certain validity. */
    readonly validUntil: number;
  };
  /** A renewal failed while the lock still had time: the first stage of loss. */
  'at-risk': {
    readonly key: string;
    readonly lock: LockHandle;
    readonly remainingMs: number;
    readonly cause: unknown;
  };
  /**
   * The lock was lost: the second stage; its `signal` aborts at the same moment. Also when a
   * release finds it gone or taken (reason `released-elsewhere`).
   */
  lost: {
    readonly key: string;
    readonly lock: LockHandle;
    readonly reason: LostReason;
    /** From the grant to the loss. */
    readonly holdMs: number;
    /** Time since the last confirmed renewal (or the acquire) was confirmed. */
    readonly sinceLastRenewalMs: number;
    /** How long before the end of certain validity the loss was noticed (negative: after). */
    readonly beforeValidityEndMs: number;
  };
  /** The lock was released by its holder. */
  released: {
    readonly key: string;
    readonly lock: LockHandle;
    /** From the grant to the moment the release was sent (`sentAt`): how long the lock was used. */
    readonly holdMs: number;
    /** When the release was sent: the next holder can have it from about then. */
    readonly sentAt: number;
  };
  /** A backend call failed (the error the caller got, or a background call's). */
  'backend-error': {
    readonly key: string | undefined;
    readonly operation: string;
    readonly code: LockErrorCode;
    readonly error: unknown;
    /** The lock the call was about (extend, release), when there is one. */
    readonly lock: LockHandle | undefined;
  };
}

/** The name of a {@link LockEventMap} event. */
export type LockEventName = keyof LockEventMap;

/** A listener of event `E`. */
export type LockEventListener<E extends LockEventName> = (event: LockEventMap[E]) => void;

/** Handlers by event name, as the `events` option of a locker takes them. */
export type LockEventHandlers = { readonly [E in LockEventName]?: LockEventListener<E> };

/**
 * A lower-level subscription than {@link LockEventMap}'s events, for a consumer that runs on every
 * grant and release (a metrics library): core calls its methods with positional arguments
 * instead of building an event object, gives it the times it already read instead of reading
 * the clock again, and keeps on each lock one value of the observer's own (what `acquired`
 * returned), handed back with every later call about that lock, so that the observer needs no
 * map from locks to its state. Attach it with `locker.observe(observer)`: one observer per locker
 * and its sessions; `locker.on()` listeners may listen beside it.
 *
 * Times are milliseconds on the locker's clock, as in the events. A method that throws is
 * isolated like a listener (its error goes to the locker's `onError`). The observer is called
 * before the listeners of the same event.
 * @typeParam State what the observer keeps on each lock it saw granted.
 * @example
 * ```ts
 * const stop = locker.observe({
 *   acquired: (lock, waitMs) => ({ key: lock.key, waitMs }),
 *   released: (lock, state, holdMs) => {
 *     if (state !== undefined) histogram.record(holdMs);
 *   },
 * });
 * ```
 */
export interface LockObserver<State = unknown> {
  /**
   * `lock` was granted (the `acquired` event). Returns the state kept on the lock for this
   * observer.
   * @param waitMs from the call to the grant.
   * @param attempts attempts made (a fair queue's wait counts as one).
   * @param contended whether the call had to wait for another holder.
   * @param call the acquire call (as in the `acquire-attempted` and `denied` events).
   * @param grantedAt when the grant arrived.
   */
  acquired(
    lock: LockHandle,
    waitMs: number,
    attempts: number,
    contended: boolean,
    call: number,
    grantedAt: number,
  ): State;
  /**
   * `lock` was released by its holder (the `released` event), or its release got no reply
   * (`error` is then the error its caller got, after the `backend-error` event, and the lock is
   * left to expire by its TTL). `state` is what `acquired` returned, or undefined when this
   * observer did not see the lock granted (in every method).
   * @param holdMs from the grant to the moment the release was sent (`sentAt`).
   * @param sentAt when the release was sent.
   */
  released?(
    lock: LockHandle,
    state: State | undefined,
    holdMs: number,
    sentAt: number,
    error?: unknown,
  ): void;
  /** A renewal of `lock` was confirmed (the `renewed` event): sent at `sentAt`, valid until `validUntil`. */
  renewed?(
    lock: LockHandle,
    state: State | undefined,
    sentAt: number,
    ttlMs: number,
    validUntil: number,
  ): void;
  /** A renewal failed while `lock` had `remainingMs` left (the `at-risk` event). */
  atRisk?(lock: LockHandle, state: State | undefined, remainingMs: number, cause: unknown): void;
  /** `lock` was lost (the `lost` event, with its fields in the same order). */
  lost?(
    lock: LockHandle,
    state: State | undefined,
    reason: LostReason,
    holdMs: number,
    sinceLastRenewalMs: number,
    beforeValidityEndMs: number,
  ): void;
}

/** Throws unless `observer` has an `acquired` method and only methods as its other members. */
export function checkObserver(observer: unknown): asserts observer is LockObserver {
  for (const name of ['acquired', 'released', 'renewed', 'atRisk', 'lost']) {
    const method = (observer as Record<string, unknown> | null)?.[name];
    if (name === 'acquired' || method !== undefined) checkFunction(method, `observer.${name}`);
  }
}

/** A lock as core keeps it for its observer: which observer saw it granted, and its state. */
export interface ObservedLock extends LockHandle {
  observer: LockObserver | undefined;
  observation: unknown;
}

/**
 * The listeners of one locker and its sessions. Emitting costs one property read when nobody
 * listens to an event: callers check {@link LockEvents.wants} before they build the event.
 * A listener that throws is isolated: its error goes to the locker's `onError`.
 */
export class LockEvents {
  readonly #listeners: { [E in LockEventName]?: Set<LockEventListener<E>> } = {};
  readonly #onError: (error: unknown) => void;
  /** The {@link LockObserver} attached, if any: callers check it before `observeAcquired` or `tell`. */
  observer: LockObserver | undefined = undefined;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Whether anyone listens to `name`. */
  wants(name: LockEventName): boolean {
    return this.#listeners[name] !== undefined;
  }

  /** Adds `listener` for `name`; returns the function that removes it. */
  on<E extends LockEventName>(name: E, listener: LockEventListener<E>): () => void {
    const listeners: { [K in LockEventName]?: Set<LockEventListener<K>> } = this.#listeners;
    const set = (listeners[name] ?? new Set()) as Set<LockEventListener<E>>;
    set.add(listener);
    (listeners as Record<string, unknown>)[name] = set;
    return () => {
      set.delete(listener);
      if (set.size === 0 && listeners[name] === set) delete listeners[name];
    };
  }

  /** Calls every listener of `name` with `event`. */
  emit<E extends LockEventName>(name: E, event: LockEventMap[E]): void {
    const set = this.#listeners[name] as Set<LockEventListener<E>> | undefined;
    if (set === undefined) return;
    for (const listener of set) {
      try {
        listener(event);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  /** Tells the observer `lock` was granted, and keeps what it returns on the lock. */
  observeAcquired(
    lock: ObservedLock,
    waitMs: number,
    attempts: number,
    contended: boolean,
    call: number,
    grantedAt: number,
  ): void {
    const observer = this.observer as LockObserver;
    try {
      lock.observation = observer.acquired(lock, waitMs, attempts, contended, call, grantedAt);
      lock.observer = observer;
    } catch (error) {
      this.#onError(error);
    }
  }

  /** Tells the observer `lock` was released (`tell('released', …)`, on the hot path). */
  observeReleased(lock: ObservedLock, holdMs: number, sentAt: number): void {
    const observer = this.observer as LockObserver;
    try {
      observer.released?.(lock, stateOf(lock, observer), holdMs, sentAt);
    } catch (error) {
      this.#onError(error);
    }
  }

  /**
   * Calls the observer's `method` (if it has one) about `lock`, with its state and then `a` to
   * `d` (as many as the method takes).
   */
  tell(
    method: Exclude<keyof LockObserver, 'acquired'>,
    lock: ObservedLock,
    a: unknown,
    b: unknown,
    c?: unknown,
    d?: unknown,
  ): void {
    const observer = this.observer as LockObserver;
    try {
      (observer[method] as ((...args: unknown[]) => void) | undefined)?.call(
        observer,
        lock,
        stateOf(lock, observer),
        a,
        b,
        c,
        d,
      );
    } catch (error) {
      this.#onError(error);
    }
  }
}

/** What `observer` keeps on `lock`: nothing unless it saw the lock granted. */
function stateOf(lock: ObservedLock, observer: LockObserver): unknown {
  return lock.observer === observer ? lock.observation : undefined;
}

/** Ids of acquire calls (locks and semaphores alike), unique in this process. */
let lastCall = 0;

/** The next acquire call's id, so that events of one call can be told apart. */
export function nextCall(): number {
  lastCall += 1;
  return lastCall;
}
