import type { ITxnResponse } from 'etcd3';

/**
 * What the driver did with one call: how many times it sent it (it retries a call that failed
 * with a transport error on another member) and whether the backend has given up on it.
 */
export interface Attempts {
  /** Times the call was sent; more than one means the driver retried it on another member. */
  count: number;
  /** Set once the backend stopped waiting for the call: no further attempt is started. */
  abandoned: boolean;
}

/**
 * Hands the {@link Attempts} record of a call from the backend to the client's retry policy.
 *
 * The driver gives its retry policy nothing but a function to run, so the backend tells it which
 * call that is: it sets the record, then starts the call, which reaches the policy synchronously
 * (`client.kv.txn(…)` → the connection pool's `exec` → `policy.execute`, with no `await` in
 * between in etcd3 1.1.2), and the policy takes it. A call that reaches the policy some other
 * way (watch streams, an auth retry, a client of the user's own) gets a fresh record nobody reads.
 */
export class AttemptTracker {
  #next: Attempts | undefined;

  /** Runs `start`, which must hand its call to the driver synchronously, with `attempts` as its record. */
  track<T>(attempts: Attempts, start: () => T): T {
    this.#next = attempts;
    try {
      return start();
    } finally {
      this.#next = undefined;
    }
  }

  /** For the retry policy, as a call starts: that call's record. */
  take(): Attempts {
    const attempts = this.#next ?? { count: 0, abandoned: false };
    this.#next = undefined;
    return attempts;
  }
}

/**
 * A transaction's reply with the number of times the driver sent it (0 when unknown: a client
 * of the user's own, whose retry policy is not ours).
 */
export type TxnReply = ITxnResponse & { readonly attempts: number };
