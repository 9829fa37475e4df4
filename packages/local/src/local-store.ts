import {
  type BackendSemaphoreInfo,
  type Clock,
  decideSemaphore,
  describeSemaphore,
  type SemaphoreAcquireResult,
  type SemaphoreCommand,
  type SemaphoreOwnerResult,
  type SemaphoreState,
  type TimerHandle,
} from '@lock/core';

/** One held key. */
interface Holding {
  owner: string;
  expiresAt: number;
  fence: number;
}

/** A waiter in a key's FIFO queue. */
export interface Waiter {
  readonly owner: string;
  readonly ttlMs: number;
  readonly grant: (fence: number, sentAt: number) => void;
}

interface KeyState {
  holding: Holding | undefined;
  /** Highest fence handed out for this key; kept after release so fences only grow. */
  fence: number;
  /** Waiters in order; created on first use (most keys never have any). */
  queue: Waiter[] | undefined;
  /** Watchers; created on first use. */
  listeners: Set<() => void> | undefined;
  expiryTimer: TimerHandle | undefined;
}

/**
 * The in-memory lock table behind {@link LocalBackend}. Several backends can share one store
 * (`connect('local:name')` does), which is how lockers in one process contend for the same keys.
 *
 * Expiry is judged lazily against the clock on every access; a timer is armed only while a
 * key has waiters, to hand the lock over the moment its holder's TTL runs out.
 */
export class LocalStore {
  readonly clock: Clock;
  readonly #keys = new Map<string, KeyState>();
  /**
   * Semaphore and read-write lock records, apart from the mutex table (a key can be both).
   * Kept when idle: their fence counters must survive for fences to keep growing.
   */
  readonly #semaphores = new Map<string, SemaphoreState>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Takes `key` for `owner` if free (and nobody queues ahead). Returns the fence, or the holding. */
  tryTake(
    key: string,
    owner: string,
    ttlMs: number,
  ): { fence: number } | { holding: Holding | undefined } {
    const state = this.#state(key);
    const holding = this.#live(key, state);
    if (holding !== undefined || (state.queue?.length ?? 0) > 0) return { holding };
    return { fence: this.#take(state, owner, ttlMs) };
  }

  /** Queues `waiter` for `key` (FIFO); it is granted the lock directly when its turn comes. */
  enqueue(key: string, waiter: Waiter): () => void {
    const state = this.#state(key);
    state.queue ??= [];
    state.queue.push(waiter);
    this.#handOver(key, state);
    this.#armExpiry(key, state);
    return () => {
      const index = state.queue?.indexOf(waiter) ?? -1;
      if (index >= 0) state.queue?.splice(index, 1);
      this.#idle(state);
    };
  }

  /** Resets the TTL if `owner` holds `key`. */
  extend(key: string, owner: string, ttlMs: number): 'ok' | 'not-found' | 'forbidden' {
    const state = this.#keys.get(key);
    const holding = state && this.#live(key, state);
    if (holding === undefined) return 'not-found';
    if (holding.owner !== owner) return 'forbidden';
    holding.expiresAt = this.clock.now() + ttlMs;
    if (state) this.#armExpiry(key, state);
    return 'ok';
  }

  /** Frees `key` if `owner` holds it, and hands it to the next waiter. */
  release(key: string, owner: string): 'ok' | 'not-found' | 'forbidden' {
    const state = this.#keys.get(key);
    const holding = state && this.#live(key, state);
    if (state === undefined || holding === undefined) return 'not-found';
    if (holding.owner !== owner) return 'forbidden';
    state.holding = undefined;
    this.#freed(key, state);
    return 'ok';
  }

  /** The live holding of `key`, if any. */
  inspect(key: string): Readonly<Holding> | undefined {
    const state = this.#keys.get(key);
    return state && this.#live(key, state);
  }

  /** Deletes `key` behind its holder's back (an operator's hand, or a test). */
  forceDelete(key: string): void {
    const state = this.#keys.get(key);
    if (state?.holding === undefined) return;
    state.holding = undefined;
    this.#freed(key, state);
  }

  /** Calls `listener` whenever `key` may have become free. */
  listen(key: string, listener: () => void): () => void {
    const state = this.#state(key);
    state.listeners ??= new Set();
    state.listeners.add(listener);
    return () => {
      state.listeners?.delete(listener);
      this.#idle(state);
    };
  }

  /**
   * Applies one semaphore command to `key`'s record by core's rules (`decideSemaphore`), on this
   * store's clock, and wakes the key's listeners when permits were freed or the line moved.
   */
  semaphore(
    key: string,
    command: Extract<SemaphoreCommand, { op: 'acquire' }>,
  ): SemaphoreAcquireResult;
  semaphore(
    key: string,
    command: Exclude<SemaphoreCommand, { op: 'acquire' }>,
  ): SemaphoreOwnerResult;
  semaphore(key: string, command: SemaphoreCommand): SemaphoreAcquireResult | SemaphoreOwnerResult {
    const now = this.clock.now();
    const before = this.#semaphores.get(key);
    const decision =
      command.op === 'acquire'
        ? decideSemaphore(before, command, now)
        : decideSemaphore(before, command, now);
    if (decision.state !== undefined) this.#semaphores.set(key, decision.state);
    if (decision.wake) this.#notify(key);
    return decision.reply;
  }

  /** The live holders and waiters of `key`'s semaphore record, if any. */
  inspectSemaphore(key: string): BackendSemaphoreInfo | undefined {
    return describeSemaphore(this.#semaphores.get(key), this.clock.now());
  }

  /** Deletes `key`'s semaphore holdings behind their holders' backs (a test); keeps its fence. */
  forceDeleteSemaphore(key: string): void {
    const state = this.#semaphores.get(key);
    if (state === undefined) return;
    this.#semaphores.set(key, { ...state, holders: [], waiters: [] });
    this.#notify(key);
  }

  #notify(key: string): void {
    const listeners = this.#keys.get(key)?.listeners;
    if (listeners !== undefined) for (const listener of [...listeners]) listener();
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = {
        holding: undefined,
        fence: 0,
        queue: [],
        listeners: new Set(),
        expiryTimer: undefined,
      };
      this.#keys.set(key, state);
    }
    return state;
  }

  /** The holding if its TTL has not run out; an expired one is freed on the spot. */
  #live(key: string, state: KeyState): Holding | undefined {
    const holding = state.holding;
    if (holding !== undefined && this.clock.now() >= holding.expiresAt) {
      state.holding = undefined;
      this.#freed(key, state);
    }
    return state.holding;
  }

  #take(state: KeyState, owner: string, ttlMs: number): number {
    state.fence += 1;
    state.holding = { owner, expiresAt: this.clock.now() + ttlMs, fence: state.fence };
    return state.fence;
  }

  #freed(key: string, state: KeyState): void {
    this.#handOver(key, state);
    if (state.listeners !== undefined) for (const listener of [...state.listeners]) listener();
    this.#idle(state);
  }

  /** Grants a free key to the first waiter in line. */
  #handOver(key: string, state: KeyState): void {
    if (state.holding !== undefined) return;
    const next = state.queue?.shift();
    if (next === undefined) return;
    const sentAt = this.clock.now();
    next.grant(this.#take(state, next.owner, next.ttlMs), sentAt);
    this.#armExpiry(key, state);
  }

  /** While someone waits, wake at the holder's expiry to hand the lock on. */
  #armExpiry(key: string, state: KeyState): void {
    this.clock.clearTimeout(state.expiryTimer);
    state.expiryTimer = undefined;
    const holding = state.holding;
    if (holding === undefined || (!state.queue?.length && !state.listeners?.size)) return;
    state.expiryTimer = this.clock.setTimeout(() => {
      state.expiryTimer = undefined;
      if (this.#live(key, state) !== undefined) this.#armExpiry(key, state);
    }, holding.expiresAt - this.clock.now());
  }

  /**
   * Stops the expiry timer of a key nobody holds or waits for. The entry itself stays (a few
   * dozen bytes) because its fence counter must survive for fences to keep growing.
   */
  #idle(state: KeyState): void {
    if (state.holding === undefined && !state.queue?.length && !state.listeners?.size) {
      this.clock.clearTimeout(state.expiryTimer);
      state.expiryTimer = undefined;
    }
  }
}
