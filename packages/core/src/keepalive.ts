import type { ExtendRequest, LockBackend, OwnerCheckedResult } from './backend.js';
import type { Clock, TimerHandle } from './clock.js';
import type { HeldLock } from './lock-handle.js';
import type { Renewal } from './validity.js';
import { raceSignal } from './wait.js';

/** Shortest delay between two renewal attempts after a failure. */
const MIN_RETRY_MS = 5;

/** What a keepalive group needs from its locker. */
export interface KeepaliveContext {
  readonly clock: Clock;
  readonly backend: LockBackend;
  /** Registers a backend call under way, so the locker's `close()` waits for it. */
  inflight<T>(call: Promise<T>): Promise<T>;
  /** Reports a failed backend call as a `backend-error` event (when anyone listens). */
  backendError(error: unknown, key: string | undefined, operation: string): void;
}

/**
 * Keeps every lock with the same TTL alive with one timer and one batched renewal per tick
 * (`backend.extendMany` when the backend has it), and watches their expiry with one loss timer.
 * With 10,000 locks that is one request per tick, not 10,000 timers and requests.
 *
 * Validity is counted from the moment a renewal was sent, and only for the TTL that renewal
 * asked for (see `Validity`). A renewal that the backend refuses loses that lock at once; one
 * that fails or hangs marks the locks at risk and is retried sooner, and the loss timer aborts
 * them when their time runs out, whatever the network does. A reply that comes after the
 * renewal was given up on still counts, from the renewal's send time.
 *
 * The loss timer fires `leadMs` before the earliest validity ends and loses every lock within
 * `leadMs` of its end, so a timer that fires late by up to `leadMs` still aborts the signal
 * before the validity is over.
 *
 * A group that empties keeps its timers until they fire (then it retires, or `dispose()` stops
 * them): a lock taken and released again and again then arms no timer at all, where it armed
 * and cleared two per lock. A timer firing early is harmless (the loss timer re-arms for the
 * earliest validity), and the first renewal after the group refilled still waits a full interval.
 */
export class KeepaliveGroup {
  readonly #members = new Set<HeldLock>();
  readonly #context: KeepaliveContext;
  readonly #ttlMs: number;
  readonly #intervalMs: number;
  readonly #leadMs: number;
  readonly #onEmpty: () => void;
  #tickTimer: TimerHandle | undefined;
  #lossTimer: TimerHandle | undefined;
  #lossAt = Number.POSITIVE_INFINITY;
  #renewing = false;
  /** When the group last refilled while its tick was still armed: renew a full interval later. */
  #refilledAt: number | undefined;

  /**
   * @param intervalMs time between renewals; `Infinity` only watches expiry (keepalive off).
   * @param leadMs how early the loss timer fires before a validity ends.
   * @param onEmpty called when the last member leaves, so the owner can drop the group.
   */
  constructor(
    context: KeepaliveContext,
    ttlMs: number,
    intervalMs: number,
    leadMs: number,
    onEmpty: () => void,
  ) {
    this.#context = context;
    this.#ttlMs = ttlMs;
    this.#intervalMs = intervalMs;
    this.#leadMs = leadMs;
    this.#onEmpty = onEmpty;
  }

  /** Number of locks kept by this group. */
  get size(): number {
    return this.#members.size;
  }

  /** The TTL its locks are renewed with. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** Time between renewals (`Infinity`: keepalive off). */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** The locks kept by this group. */
  members(): IterableIterator<HeldLock> {
    return this.#members.values();
  }

  add(lock: HeldLock): void {
    if (this.#members.size === 0 && this.#tickTimer !== undefined) {
      this.#refilledAt = this.#context.clock.now();
    }
    this.#members.add(lock);
    if (this.#tickTimer === undefined && Number.isFinite(this.#intervalMs)) {
      this.#scheduleTick(this.#intervalMs);
    }
    this.noteValidity(lock);
  }

  /** Removes `lock`; an emptied group keeps its timers (see the class comment). */
  delete(lock: HeldLock): void {
    this.#members.delete(lock);
  }

  /** Stops the timers of an empty group and retires it (the locker is closing). */
  dispose(): void {
    if (this.#members.size > 0) return;
    this.#context.clock.clearTimeout(this.#tickTimer);
    this.#context.clock.clearTimeout(this.#lossTimer);
    this.#tickTimer = undefined;
    this.#lossTimer = undefined;
    this.#lossAt = Number.POSITIVE_INFINITY;
    this.#retireIfIdle();
  }

  /** An empty group whose timers have all fired or stopped is dropped by its locker. */
  #retireIfIdle(): void {
    if (
      this.#members.size === 0 &&
      this.#tickTimer === undefined &&
      this.#lossTimer === undefined
    ) {
      this.#onEmpty();
    }
  }

  /** `lock`'s validity may have moved earlier (a shorter renewal went out): watch it. */
  noteValidity(lock: HeldLock): void {
    if (this.#members.has(lock) && lock.validUntil < this.#lossAt) {
      this.#scheduleLossCheck(lock.validUntil);
    }
  }

  #scheduleTick(ms: number): void {
    const clock = this.#context.clock;
    clock.clearTimeout(this.#tickTimer);
    this.#tickTimer = clock.setTimeout(() => {
      this.#tickTimer = undefined;
      const refilledAt = this.#refilledAt;
      this.#refilledAt = undefined;
      if (this.#members.size === 0) {
        this.#retireIfIdle();
        return;
      }
      if (refilledAt !== undefined) {
        // Armed before the group emptied: its locks are due a full interval after the refill.
        const due = refilledAt + this.#intervalMs - clock.now();
        if (due > 0) {
          this.#scheduleTick(due);
          return;
        }
      }
      this.#scheduleTick(this.#intervalMs);
      if (!this.#renewing) void this.#renew();
    }, ms);
  }

  async #renew(): Promise<void> {
    const clock = this.#context.clock;
    const batch = [...this.#members];
    const renewal: Renewal = { sentAt: clock.now(), ttlMs: this.#ttlMs };
    for (const lock of batch) lock.beginRenewal(renewal);
    const requests: ExtendRequest[] = batch.map((lock) => ({
      key: lock.key,
      owner: lock.owner,
      ttlMs: this.#ttlMs,
    }));
    // Settles each lock whenever the reply comes, even after the deadline below gave up on it.
    const settled = this.#context.inflight(this.#extendAll(requests)).then(
      (results) => {
        batch.forEach((lock, index) => {
          const result = results[index];
          if (result === 'ok') lock.confirm(renewal);
          else if (result !== undefined) lock.refuse(renewal, result);
          else lock.renewalUnknown(renewal, new Error('the backend sent no result for this lock'));
        });
        this.#recomputeLossCheck();
      },
      (error: unknown) => {
        this.#context.backendError(error, batch.length === 1 ? batch[0]?.key : undefined, 'renew');
        for (const lock of batch) lock.renewalUnknown(renewal, error);
        throw error;
      },
    );
    // Give up waiting for the reply when the earliest lock would run out or the next tick is due,
    // so a hung request marks the locks at risk instead of silently stalling renewals.
    const deadline = new AbortController();
    const earliest = Math.min(...batch.map((lock) => lock.validUntil));
    const deadlineTimer = clock.setTimeout(
      () => deadline.abort(new Error('renewal got no reply in time')),
      Math.max(MIN_RETRY_MS, Math.min(this.#intervalMs, earliest - renewal.sentAt)),
    );
    this.#renewing = true;
    try {
      await raceSignal(settled, deadline.signal);
    } catch (error) {
      for (const lock of batch) lock.renewalUnknown(renewal, error);
      const left = Math.min(...batch.map((lock) => lock.validUntil)) - clock.now();
      if (this.#members.size > 0) {
        this.#scheduleTick(Math.max(MIN_RETRY_MS, Math.min(this.#intervalMs, left / 3)));
      }
    } finally {
      this.#renewing = false;
      clock.clearTimeout(deadlineTimer);
      this.#recomputeLossCheck();
    }
  }

  #extendAll(requests: ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    const backend = this.#context.backend;
    if (backend.extendMany !== undefined) return backend.extendMany(requests);
    // Each extend is registered on its own: Promise.all settles at the first rejection, and
    // close() must still wait for the others under way.
    const inflight = this.#context.inflight;
    return Promise.all(requests.map((request) => inflight(backend.extend(request))));
  }

  #recomputeLossCheck(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const lock of this.#members) earliest = Math.min(earliest, lock.validUntil);
    this.#scheduleLossCheck(earliest);
  }

  #scheduleLossCheck(at: number): void {
    const clock = this.#context.clock;
    clock.clearTimeout(this.#lossTimer);
    this.#lossTimer = undefined;
    this.#lossAt = at;
    if (!Number.isFinite(at)) {
      this.#retireIfIdle();
      return;
    }
    this.#lossTimer = clock.setTimeout(
      () => {
        this.#lossTimer = undefined;
        this.#lossAt = Number.POSITIVE_INFINITY;
        for (const lock of [...this.#members]) lock.checkExpiry(this.#leadMs);
        this.#recomputeLossCheck();
      },
      at - this.#leadMs - clock.now(),
    );
  }
}
