/**
 * Counts the backend's calls under way, so `close()` can let them finish before it revokes the
 * leases and closes the client: a release already sent must get its own answer, not a spurious
 * `CLOSED` (client closed under it) or `not-found` / `forbidden` (its entry revoked first).
 */
export class CallsUnderWay {
  #count = 0;
  #onIdle: (() => void) | undefined;

  /** Runs `call`, counted while it is under way. */
  run<T>(call: () => Promise<T>): Promise<T> {
    this.#count += 1;
    const running = call();
    running.then(this.#ended, this.#ended);
    return running;
  }

  readonly #ended = (): void => {
    this.#count -= 1;
    if (this.#count === 0) this.#onIdle?.();
  };

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
