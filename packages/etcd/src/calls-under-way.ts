/**
 * Counts the backend's calls under way, so `close()` can let them finish before it revokes the
 * leases and closes the client: a release already sent must get its own answer, not a spurious
 * `CLOSED` (client closed under it) or `not-found` / `forbidden` (its entry revoked first).
 */
export class CallsUnderWay {
  #count = 0;
  #onIdle: (() => void) | undefined;

  /** Runs `call`, counted while it is under way. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    this.#count += 1;
    try {
      return await call();
    } finally {
      this.#count -= 1;
      if (this.#count === 0) this.#onIdle?.();
    }
  }

  /** Resolves once no call is under way, or after `ms` at the latest (each call has its own deadline). */
  settled(ms: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      const previous = this.#onIdle;
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#onIdle = () => {
        previous?.();
        done();
      };
    });
  }
}
