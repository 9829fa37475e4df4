import type { LockErrorCode, LostReason } from './errors.js';
import type { LockHandle } from './lock-handle.js';

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
    /** From the grant to the release's confirmation. */
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
 * The listeners of one locker and its sessions. Emitting costs one property read when nobody
 * listens to an event: callers check {@link LockEvents.wants} before they build the event.
 * A listener that throws is isolated: its error goes to the locker's `onError`.
 */
export class LockEvents {
  readonly #listeners: { [E in LockEventName]?: Set<LockEventListener<E>> } = {};
  readonly #onError: (error: unknown) => void;

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
}

/** Ids of acquire calls (locks and semaphores alike), unique in this process. */
let lastCall = 0;

/** The next acquire call's id, so that events of one call can be told apart. */
export function nextCall(): number {
  lastCall += 1;
  return lastCall;
}
