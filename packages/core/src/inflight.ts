/**
 * Backend calls and lock operations under way in one locker, so that `close()` can wait for
 * them before it closes the backend underneath them: a release already sent must reach the
 * server, and a grant that arrives during `close()` must be handed back while the backend is
 * still open.
 */
export class Inflight {
  readonly #calls = new Set<Promise<unknown>>();

  /** Number of calls under way. */
  get size(): number {
    return this.#calls.size;
  }

  /** Registers `call` until it settles; returns it unchanged. */
  track<T>(call: Promise<T>): Promise<T> {
    this.#calls.add(call);
    const remove = () => {
      this.#calls.delete(call);
    };
    call.then(remove, remove);
    return call;
  }

  /** Resolves once every call under way, including those started meanwhile, has settled. */
  async drain(): Promise<void> {
    while (this.#calls.size > 0) await Promise.allSettled([...this.#calls]);
  }
}
