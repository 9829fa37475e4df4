import type { LockBackend } from '@lock/core';

/** What a backend cannot do as finely as the suite assumes by default. */
export interface Capabilities {
  /**
   * Smallest TTL the backend honours exactly enough for expiry tests, in ms (memcached: 1000 and
   * whole seconds; etcd: its smallest lease). Timing tests use multiples of it.
   * @default 300
   */
  readonly minTtlMs?: number;
  /**
   * How long after a TTL runs out the backend may still report the key as held, in ms
   * (memcached rounds up to the next second).
   * @default 50
   */
  readonly expirySlackMs?: number;
  /** How many contenders the seed scenario runs. @default 1000 */
  readonly seedContenders?: number;
  /**
   * Whether `extend()` with a shorter TTL shortens the lock on the server (etcd keeps a lock on
   * its lease, whose TTL only grows, so there the server keeps it longer). @default true
   */
  readonly extendShortensTtl?: boolean;
  /**
   * Whether the backend serves semaphores and read-write locks (natively, or through core's
   * record fallback): runs the suite's semaphore and read-write sections. A target must set this
   * or {@link semaphoresUnsupported}: with neither, the suite fails.
   */
  readonly semaphores?: boolean;
  /** Why the backend cannot serve semaphores (Redlock: no majority agrees on the line). */
  readonly semaphoresUnsupported?: string;
}

/** One backend under test. */
export interface ConformanceTarget {
  /** Name shown in the test titles. */
  readonly name: string;
  /**
   * A new backend on a fresh namespace (key prefix, database…) of the shared test server. Every
   * call must give a backend that sees the same keys as the others from the same test.
   * The suite calls it once per test and passes the same namespace on via `sameNamespace`.
   */
  readonly createBackend: (namespace: string) => Promise<LockBackend>;
  /** Deletes `key` behind its holder's back, with a raw driver client (or the store itself). */
  readonly forceDelete: (namespace: string, key: string) => Promise<void>;
  /** A backend whose server cannot be reached (a closed port), to check that calls fail fast. */
  readonly createUnreachableBackend: () => Promise<LockBackend>;
  /** Limits of this backend. */
  readonly capabilities?: Capabilities;
}
