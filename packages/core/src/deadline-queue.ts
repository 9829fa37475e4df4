import type { Clock, TimerHandle } from './clock.js';

/** A deadline registered with {@link DeadlineQueue.add}. */
export interface Deadline {
  /** Stops it from firing; does nothing once it fired or was cancelled. */
  cancel(): void;
}

interface Entry extends Deadline {
  readonly at: number;
  fire: (() => void) | undefined;
}

/**
 * Many one-shot deadlines on one clock timer. `lock()` bounds its first attempt by its timeout;
 * with a timer per call, arming and clearing it was about a quarter of core's work on an
 * uncontended acquire + release (valgrind: 8.7k of 33k instructions per pair on `local:`).
 * Calls of one locker mostly share their timeout, so their deadlines arrive in order: they wait
 * in a FIFO behind one timer set for the earliest. A deadline earlier than the last one queued
 * gets a timer of its own, so the queue stays sorted and nothing fires late.
 *
 * A cancelled entry is dropped when it reaches the head, and the queue is compacted when
 * cancelled entries outnumber live ones, so memory follows the deadlines still pending, not
 * the calls made within one timeout.
 *
 * Hand-written: timer-wheel libraries on npm would be core's first runtime dependency, and this
 * is a FIFO and one timer.
 */
export class DeadlineQueue {
  readonly #clock: Clock;
  #queue: Entry[] = [];
  #head = 0;
  #live = 0;
  #timer: TimerHandle | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Calls `fire` once `at` (on the clock's `now()`) has passed, unless cancelled first. */
  add(at: number, fire: () => void): Deadline {
    const last = this.#queue[this.#queue.length - 1];
    if (last !== undefined && this.#queue.length > this.#head && at < last.at) {
      return this.#alone(at, fire);
    }
    const entry: Entry = {
      at,
      fire,
      cancel: () => {
        if (entry.fire === undefined) return;
        entry.fire = undefined;
        this.#live--;
        this.#dropCancelled();
      },
    };
    this.#queue.push(entry);
    this.#live++;
    if (at < this.#timerAt) {
      this.#disarm();
      this.#arm(at);
    }
    return entry;
  }

  /** Entries kept, pending or cancelled but not yet dropped (for tests and diagnostics). */
  get retained(): number {
    return this.#queue.length - this.#head;
  }

  /** Stops the timer if no deadline is pending (a closed locker leaves no timer behind). */
  disarmIfIdle(): void {
    if (this.#live === 0) this.#disarm();
  }

  #alone(at: number, fire: () => void): Deadline {
    let timer: TimerHandle | undefined = this.#clock.setTimeout(
      () => {
        timer = undefined;
        fire();
      },
      Math.max(0, at - this.#clock.now()),
    );
    return {
      cancel: () => {
        if (timer === undefined) return;
        this.#clock.clearTimeout(timer);
        timer = undefined;
      },
    };
  }

  #arm(at: number): void {
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(
      () => this.#onTimer(),
      Math.max(0, at - this.#clock.now()),
    );
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    while (this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head] as Entry;
      if (entry.fire !== undefined && entry.at > now) break;
      this.#head++;
      const fire = entry.fire;
      if (fire === undefined) continue;
      entry.fire = undefined;
      this.#live--;
      fire();
    }
    this.#reset();
  }

  /** Drops cancelled entries at the head, and compacts once they are most of the queue. */
  #dropCancelled(): void {
    while (
      this.#head < this.#queue.length &&
      (this.#queue[this.#head] as Entry).fire === undefined
    ) {
      this.#head++;
    }
    if (this.#queue.length - this.#head > 2 * this.#live + 32) {
      this.#queue = this.#queue.slice(this.#head).filter((entry) => entry.fire !== undefined);
      this.#head = 0;
    }
    this.#reset();
  }

  /**
   * Re-arms the timer for the live head. With nothing pending the timer is left to run out
   * (unref'd, it holds nothing): at one call at a time, arming and clearing it for every call is
   * the cost this class exists to save.
   */
  #reset(): void {
    if (this.#head >= this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      return;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    const first = this.#queue[this.#head] as Entry;
    // A timer due no later than the head stays: when it fires early, it re-arms for the head.
    if (this.#timer !== undefined && this.#timerAt <= first.at) return;
    this.#disarm();
    this.#arm(first.at);
  }
}
