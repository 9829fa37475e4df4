// The model check's time: one ManualClock for every locker, seen through views that know which
// timers are armed and when they fall due, so the runner can step from one timer to the next
// (letting promises settle in between, as Node does) and tell which locker left a timer behind.
import type { Clock, TimerHandle } from '../../src/clock.js';
import type { ManualClock } from '../../src/manual-clock.js';

/**
 * Wraps a {@link ManualClock}: every timer armed through it is recorded with its due time, and
 * with the view that armed it. Time itself still moves only through the ManualClock.
 */
export class TrackingClock {
  readonly manual: ManualClock;
  readonly #due = new Map<number, number>();

  constructor(manual: ManualClock) {
    this.manual = manual;
  }

  now(): number {
    return this.manual.now();
  }

  /** Due time of the earliest armed timer, or `Infinity`. */
  nextDue(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const at of this.#due.values()) if (at < earliest) earliest = at;
    return earliest;
  }

  /** A {@link Clock} for one locker tree; its `pending` counts the timers that tree has armed. */
  view(): ClockView {
    return new ClockView(this);
  }

  /** @internal used by {@link ClockView}. */
  arm(callback: () => void, ms: number, owned: Set<number>): number {
    const id = this.manual.setTimeout(() => {
      this.#due.delete(id);
      owned.delete(id);
      callback();
    }, ms) as number;
    this.#due.set(id, this.manual.now() + Math.max(0, ms));
    owned.add(id);
    return id;
  }

  /** @internal used by {@link ClockView}. */
  disarm(id: number, owned: Set<number>): void {
    this.manual.clearTimeout(id);
    this.#due.delete(id);
    owned.delete(id);
  }
}

/** One locker tree's clock: the shared ManualClock, with its own count of armed timers. */
export class ClockView implements Clock {
  readonly #owner: TrackingClock;
  readonly #owned = new Set<number>();

  constructor(owner: TrackingClock) {
    this.#owner = owner;
  }

  /** Timers armed through this view and neither fired nor cleared. */
  get pending(): number {
    return this.#owned.size;
  }

  now(): number {
    return this.#owner.now();
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.#owner.arm(callback, ms, this.#owned);
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#owner.disarm(handle, this.#owned);
  }
}
