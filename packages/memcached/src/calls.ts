/**
 * The calls a backend has under way, so that `close()` can refuse new ones, let those under way
 * finish, and cancel the retries they have not sent yet.
 * @module
 */
import { LockClosedError } from '@lock/core';

/**
 * Tracks calls under way. A call that has started keeps going after {@link close} (a release
 * already on the wire reports its real result, not "closed"); only its pauses before a retry are
 * cut short, with `LockClosedError`, since the retry has not left yet.
 */
export class Calls {
  readonly #running = new Set<Promise<unknown>>();
  readonly #pauses = new Set<() => void>();
  #closed = false;

  /** True once {@link close} was called: no new call may start. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Counts `call` as under way until it settles, and returns it. */
  track<T>(call: Promise<T>): Promise<T> {
    this.#running.add(call);
    const forget = () => this.#running.delete(call);
    call.then(forget, forget);
    return call;
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
  async close(): Promise<void> {
    this.#closed = true;
    for (const stop of [...this.#pauses]) stop();
    await Promise.allSettled([...this.#running]);
  }
}
