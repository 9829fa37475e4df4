/**
 * Deadlines for backend calls, kept by this package's own clock: memjs's per-request timeout is
 * its own business (and a bug there must not hang a lock), so every call also races a deadline.
 * One sweeping timer serves all calls in flight, instead of one timer per call.
 * @module
 */

interface Pending {
  readonly operation: string;
  readonly deadline: number;
  readonly fail: (error: unknown) => void;
}

/** Rejects calls that outlive their deadline, and all of them at once on {@link close}. */
export class Deadlines {
  readonly #timeoutMs: number;
  readonly #onTimeout: (operation: string, timeoutMs: number) => unknown;
  readonly #pending = new Set<Pending>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param timeoutMs how long a call may take.
   * @param onTimeout makes the error a timed-out call rejects with.
   */
  constructor(timeoutMs: number, onTimeout: (operation: string, timeoutMs: number) => unknown) {
    this.#timeoutMs = timeoutMs;
    this.#onTimeout = onTimeout;
  }

  /** Number of calls in flight. */
  get size(): number {
    return this.#pending.size;
  }

  /** `work`'s outcome, or a rejection with `onTimeout(operation)` once the deadline passes. */
  run<T>(operation: string, work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        operation,
        deadline: performance.now() + this.#timeoutMs,
        fail: (error) => {
          this.#pending.delete(entry);
          reject(error);
        },
      };
      this.#pending.add(entry);
      this.#arm();
      work.then(
        (value) => {
          this.#pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(entry);
          reject(error);
        },
      );
      // Whichever settles first wins; a promise settles once, so a late outcome is ignored.
    });
  }

  /** Rejects every call in flight with `error` and stops the timer. */
  close(error: unknown): void {
    for (const entry of [...this.#pending]) entry.fail(error);
    this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    const tick = Math.max(10, Math.min(250, this.#timeoutMs / 10));
    this.#timer = setInterval(() => this.#sweep(), tick);
    this.#timer.unref?.();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    for (const entry of [...this.#pending]) {
      if (entry.deadline <= now) {
        entry.fail(this.#onTimeout(entry.operation, this.#timeoutMs));
      }
    }
    if (this.#pending.size === 0) this.#disarm();
  }
}
