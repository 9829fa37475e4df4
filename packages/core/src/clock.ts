/**
 * The only source of time and timers in `@lock/core`. Keepalive, expiry and loss detection go
 * through a {@link Clock}, so tests can drive them deterministically with `ManualClock`
 * (from `@lock/core/testing`) while production uses {@link systemClock}.
 * @module
 */

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** Monotonic time and one-shot timers. */
export interface Clock {
  /** Milliseconds on a monotonic clock (never jumps back, ignores wall-clock changes). */
  now(): number;
  /** Runs `callback` once after `ms` milliseconds. Timers must not keep the process alive. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer; cancelling an already-fired or cancelled timer does nothing. */
  clearTimeout(handle: TimerHandle): void;
}

/** Largest delay `setTimeout` accepts; longer delays are re-armed in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The real clock: `performance.now()` and unref'd timers, so a held lock never keeps the
 * process alive by itself.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    (timer as { unref?: () => void }).unref?.();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
