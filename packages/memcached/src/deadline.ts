/**
 * Deadlines for requests, kept by this package's own clock: memjs's per-request timeout is its
 * own business (and a bug there must not hang a lock), so every request also has a deadline.
 * One sweeping timer serves all requests in flight, instead of one timer per request.
 * @module
 */
import { NoReplyError } from './errors.js';

/** One request in flight. */
export interface Pending {
  readonly deadline: number;
  readonly fail: (error: unknown) => void;
}

/**
 * Fails requests that outlive their deadline. A request that fails this way may still be
 * answered, and applied, later: its outcome is unknown.
 */
export class Deadlines {
  /** How long a request may take, in ms. */
  readonly timeoutMs: number;
  readonly #pending = new Set<Pending>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @param timeoutMs how long a request may take, in ms. */
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  /** Number of requests in flight. */
  get size(): number {
    return this.#pending.size;
  }

  /** Starts the clock of a request; `fail` runs if it is still in flight at its deadline. */
  watch(fail: (error: unknown) => void): Pending {
    const entry: Pending = { deadline: performance.now() + this.timeoutMs, fail };
    this.#pending.add(entry);
    if (this.#timer === undefined) {
      const tick = Math.max(10, Math.min(250, this.timeoutMs / 10));
      this.#timer = setInterval(() => this.#sweep(), tick);
      this.#timer.unref?.();
    }
    return entry;
  }

  /** The request settled: stop its clock. */
  unwatch(entry: Pending): void {
    this.#pending.delete(entry);
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    for (const entry of this.#pending) {
      if (entry.deadline <= now) {
        this.#pending.delete(entry);
        entry.fail(new NoReplyError(this.timeoutMs));
      }
    }
    if (this.#pending.size === 0) this.#stop();
  }
}
