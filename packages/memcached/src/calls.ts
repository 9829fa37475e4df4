/**
 * The calls a backend has under way, so that `close()` can refuse new ones, let those under way
 * finish, and cancel the retries they have not sent yet.
 * @module
 */
import { LockClosedError } from '@lock/core';

/**
 * Counts calls under way (a counter, not a set of promises: this is on every call's path). A
 * call that has started keeps going after {@link close} (a release already on the wire reports
 * its real result, not "closed"); only its pauses before a retry are cut short, with
 * `LockClosedError`, since the retry has not left yet.
 */
export class Calls {
  readonly #pauses = new Set<() => void>();
  #running = 0;
  #closed = false;
  #allDone: (() => void) | undefined;

  /** True once {@link close} was called: no new call may start. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A call starts; pair with {@link end} in a `finally`.
   * @throws {LockClosedError} once closed.
   */
  begin(): void {
    if (this.#closed) throw new LockClosedError('memcached backend');
    this.#running += 1;
  }

  /** A call {@link begin} started has settled. */
  end(): void {
    this.#running -= 1;
    if (this.#running === 0) this.#allDone?.();
  }

  /** Waits `ms` before a retry; rejects with `LockClosedError` if closed before or meanwhile. */
  pause(ms: number): Promise<void> {
    if (this.#closed) return Promise.reject(new LockClosedError('memcached backend'));
    return new Promise((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        this.#pauses.delete(stop);
        reject(new LockClosedError('memcached backend'));
      };
      const timer = setTimeout(() => {
        this.#pauses.delete(stop);
        resolve();
      }, ms);
      this.#pauses.add(stop);
    });
  }

  /** Refuses new calls, cancels pending retries, and resolves once every call under way settled. */
  close(): Promise<void> {
    this.#closed = true;
    for (const stop of [...this.#pauses]) stop();
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#allDone = resolve;
    });
  }
}
