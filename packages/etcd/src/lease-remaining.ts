/** Asks etcd for lease `id`'s remaining TTL, in whole seconds rounded down (≤ 0: gone). */
export type AskRemaining = (id: string) => Promise<number>;

/** How many leases' answers are kept; past it the oldest are forgotten. */
const REMEMBERED = 1_024;

/**
 * The remaining TTL of other owners' leases, for `remainingMs` of a denied acquire and of
 * `inspect()`, with one `LeaseTimeToLive` per lease while its last answer still says a second
 * or more is left, instead of one per call. A contender denied again and again (every `lock()`
 * on a busy key starts with a plain attempt) thus does not add a round trip to each denial.
 *
 * An answer of `n` seconds, asked at local time `t`, means etcd keeps the lease at least until
 * `t + n` s: etcd measured it after `t` and rounded it down, and never shortens a lease (only a
 * revoke, that is a release, ends it sooner). So `t + n − now` is still a lower bound later on,
 * as the README promises ("held at least that long unless released"); it is reported in whole
 * seconds rounded down, like etcd's own answer, and etcd is asked again once it is under one.
 */
export class LeaseRemaining {
  readonly #ask: AskRemaining;
  /** Lease ID → local time (`performance.now()`) until which etcd certainly keeps it. */
  readonly #keptUntil = new Map<string, number>();

  constructor(ask: AskRemaining) {
    this.#ask = ask;
  }

  /** Milliseconds lease `id` certainly has left (whole seconds), or `undefined` under a second. */
  async remainingMs(id: string): Promise<number | undefined> {
    const known = this.#keptUntil.get(id);
    if (known !== undefined) {
      const left = Math.floor((known - performance.now()) / 1_000) * 1_000;
      if (left >= 1_000) return left;
      this.#keptUntil.delete(id);
    }
    const askedAt = performance.now();
    const seconds = await this.#ask(id);
    if (!(seconds > 0)) return undefined;
    if (this.#keptUntil.size >= REMEMBERED) {
      // Maps iterate in insertion order: the first key is the oldest answer.
      const oldest = this.#keptUntil.keys().next();
      if (oldest.done !== true) this.#keptUntil.delete(oldest.value);
    }
    this.#keptUntil.set(id, askedAt + seconds * 1_000);
    return seconds * 1_000;
  }
}
