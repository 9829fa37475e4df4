import { BackendError, quoteKey } from '@lock/core';

interface Entry {
  readonly deadline: number;
  readonly reject: (error: unknown) => void;
  readonly what: string;
  readonly key: string | undefined;
}

/**
 * Command deadlines by our own clock, with one timer for all in-flight commands.
 *
 * node-redis' per-command `timeout` and `abortSignal` stop counting once a command is written
 * to the socket, so against a frozen or partitioned server they never fire; its default timer
 * per command also costs a lot of throughput. Instead every command registers here and one
 * periodic sweep (running only while something is in flight) rejects those past their deadline.
 * All commands share one timeout, so entries are in deadline order and a sweep stops at the
 * first one still in time.
 */
export class CommandDeadlines {
  readonly #timeoutMs: number;
  readonly #entries = new Set<Entry>();
  readonly #sweepMs: number;
  readonly #onExpired: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param timeoutMs longest wait for any reply, in milliseconds.
   * @param onExpired called after a sweep that rejected commands (the connection is suspect).
   */
  constructor(timeoutMs: number, onExpired: () => void = () => {}) {
    this.#timeoutMs = timeoutMs;
    this.#onExpired = onExpired;
    this.#sweepMs = Math.max(5, Math.min(250, Math.floor(timeoutMs / 8)));
  }

  /** The timeout every command gets, in milliseconds. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * Settles like `promise`, or rejects with a `BackendError` once the timeout has passed.
   * The underlying command is not cancelled (the driver cannot); its late reply is ignored.
   */
  track<T>(promise: Promise<T>, what: string, key?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        deadline: performance.now() + this.#timeoutMs,
        reject,
        what,
        key,
      };
      this.#entries.add(entry);
      this.#arm();
      promise.then(
        (value) => {
          this.#entries.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.#entries.delete(entry);
          reject(error);
        },
      );
    });
  }

  /** Rejects everything in flight (the backend is closing). */
  rejectAll(error: unknown): void {
    for (const entry of this.#entries) entry.reject(error);
    this.#entries.clear();
    this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
    this.#timer.unref?.();
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    let expired = false;
    for (const entry of this.#entries) {
      if (entry.deadline > now) break;
      expired = true;
      this.#entries.delete(entry);
      entry.reject(
        new BackendError(
          `redis did not answer ${entry.what}${
            entry.key === undefined ? '' : ` of lock ${quoteKey(entry.key)}`
          } within ${this.#timeoutMs} ms (server frozen, overloaded or unreachable)`,
          { cause: new Error(`no reply within ${this.#timeoutMs} ms`), key: entry.key },
        ),
      );
    }
    if (this.#entries.size === 0) this.#disarm();
    if (expired) this.#onExpired();
  }
}
