import type { Clock, TimerHandle } from './clock.js';

interface ManualTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A {@link Clock} that only moves when told to. Timers fire in time order, synchronously,
 * inside {@link ManualClock.advance}; use it to test keepalive and loss without real waiting.
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const locker = createLocker(new LocalBackend({ clock }), { clock, ttl: 1000 });
 * await clock.advanceAsync(5000); // five TTLs pass; keepalive keeps the lock
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, ManualTimer>();

  /** @param start the initial reading of {@link ManualClock.now}. @default 0 */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Number of timers still armed. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.at > target) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = target;
  }

  /**
   * Like {@link ManualClock.advance}, but lets promises settle between timers and moves in
   * steps of at most `stepMs`, so async work started by one timer finishes before the next.
   */
  async advanceAsync(ms: number, stepMs = 10): Promise<void> {
    const target = this.#now + ms;
    while (this.#now < target) {
      this.advance(Math.min(stepMs, target - this.#now));
      await settle();
    }
  }

  /**
   * Jumps time forward by `ms` without firing any timer, as when the process was stopped or
   * the event loop was blocked; the timers fire later, late, as real ones would.
   */
  jump(ms: number): void {
    this.#now += ms;
  }

  #earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.#timers.values()) {
      if (
        best === undefined ||
        timer.at < best.at ||
        (timer.at === best.at && timer.id < best.id)
      ) {
        best = timer;
      }
    }
    return best;
  }
}

/** Resolves after pending promise callbacks (and one macrotask turn) have run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
