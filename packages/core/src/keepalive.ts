import type { ExtendRequest, LockBackend, OwnerCheckedResult } from './backend.js';
import type { Clock, TimerHandle } from './clock.js';
import type { HeldLock } from './lock-handle.js';
import { raceSignal } from './wait.js';

/** Shortest delay between two renewal attempts after a failure. */
const MIN_RETRY_MS = 5;

/**
 * Keeps every lock with the same TTL alive with one timer and one batched renewal per tick
 * (`backend.extendMany` when the backend has it), and watches their expiry with one loss timer.
 * With 10,000 locks that is one request per tick, not 10,000 timers and requests.
 *
 * Validity is counted from the moment a renewal was sent. A renewal that the backend refuses
 * loses that lock at once; one that fails or hangs marks the locks at risk and is retried
 * sooner, and the loss timer aborts them when their time runs out, whatever the network does.
 */
export class KeepaliveGroup {
  readonly #members = new Set<HeldLock>();
  readonly #clock: Clock;
  readonly #backend: LockBackend;
  readonly #ttlMs: number;
  readonly #intervalMs: number;
  readonly #onEmpty: () => void;
  #tickTimer: TimerHandle | undefined;
  #lossTimer: TimerHandle | undefined;
  #lossAt = Number.POSITIVE_INFINITY;
  #renewing = false;

  /**
   * @param intervalMs time between renewals; `Infinity` only watches expiry (keepalive off).
   * @param onEmpty called when the last member leaves, so the owner can drop the group.
   */
  constructor(
    clock: Clock,
    backend: LockBackend,
    ttlMs: number,
    intervalMs: number,
    onEmpty: () => void,
  ) {
    this.#clock = clock;
    this.#backend = backend;
    this.#ttlMs = ttlMs;
    this.#intervalMs = intervalMs;
    this.#onEmpty = onEmpty;
  }

  /** Number of locks kept by this group. */
  get size(): number {
    return this.#members.size;
  }

  /** The locks kept by this group. */
  members(): IterableIterator<HeldLock> {
    return this.#members.values();
  }

  add(lock: HeldLock): void {
    this.#members.add(lock);
    if (this.#tickTimer === undefined && Number.isFinite(this.#intervalMs)) {
      this.#scheduleTick(this.#intervalMs);
    }
    if (lock.validUntil < this.#lossAt) this.#scheduleLossCheck(lock.validUntil);
  }

  delete(lock: HeldLock): void {
    if (!this.#members.delete(lock) || this.#members.size > 0) return;
    this.#clock.clearTimeout(this.#tickTimer);
    this.#clock.clearTimeout(this.#lossTimer);
    this.#tickTimer = undefined;
    this.#lossTimer = undefined;
    this.#lossAt = Number.POSITIVE_INFINITY;
    this.#onEmpty();
  }

  #scheduleTick(ms: number): void {
    this.#clock.clearTimeout(this.#tickTimer);
    this.#tickTimer = this.#clock.setTimeout(() => {
      this.#tickTimer = undefined;
      if (this.#members.size === 0) return;
      this.#scheduleTick(this.#intervalMs);
      if (!this.#renewing) void this.#renew();
    }, ms);
  }

  async #renew(): Promise<void> {
    const batch = [...this.#members];
    const requests: ExtendRequest[] = batch.map((lock) => ({
      key: lock.key,
      owner: lock.owner,
      ttlMs: this.#ttlMs,
    }));
    const sentAt = this.#clock.now();
    // Give up waiting for the reply when the earliest lock would run out or the next tick is due,
    // so a hung request marks the locks at risk instead of silently stalling renewals.
    const deadline = new AbortController();
    const earliest = Math.min(...batch.map((lock) => lock.validUntil));
    const deadlineTimer = this.#clock.setTimeout(
      () => deadline.abort(new Error('renewal got no reply in time')),
      Math.max(MIN_RETRY_MS, Math.min(this.#intervalMs, earliest - sentAt)),
    );
    this.#renewing = true;
    try {
      const results = await raceSignal(this.#extendAll(requests), deadline.signal);
      batch.forEach((lock, index) => {
        const result = results[index];
        if (result === 'ok') lock.confirm(sentAt, this.#ttlMs);
        else if (result !== undefined) lock.refuse(result);
      });
    } catch (error) {
      for (const lock of batch) lock.markAtRisk(error);
      const left = Math.min(...batch.map((lock) => lock.validUntil)) - this.#clock.now();
      if (this.#members.size > 0) {
        this.#scheduleTick(Math.max(MIN_RETRY_MS, Math.min(this.#intervalMs, left / 3)));
      }
    } finally {
      this.#renewing = false;
      this.#clock.clearTimeout(deadlineTimer);
      this.#recomputeLossCheck();
    }
  }

  #extendAll(requests: ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    if (this.#backend.extendMany !== undefined) return this.#backend.extendMany(requests);
    return Promise.all(requests.map((request) => this.#backend.extend(request)));
  }

  #recomputeLossCheck(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const lock of this.#members) earliest = Math.min(earliest, lock.validUntil);
    this.#scheduleLossCheck(earliest);
  }

  #scheduleLossCheck(at: number): void {
    this.#clock.clearTimeout(this.#lossTimer);
    this.#lossTimer = undefined;
    this.#lossAt = at;
    if (!Number.isFinite(at)) return;
    this.#lossTimer = this.#clock.setTimeout(() => {
      this.#lossTimer = undefined;
      for (const lock of [...this.#members]) lock.checkExpiry();
      this.#recomputeLossCheck();
    }, at - this.#clock.now());
  }
}
