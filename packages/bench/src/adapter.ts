/** A lock held through a {@link LockAdapter}. */
export interface HeldByAdapter {
  release(): Promise<void>;
}

/**
 * One lock implementation under benchmark: ours or a peer's, behind the same two calls, so
 * every workload measures every implementation the same way.
 */
export interface LockAdapter {
  /** Column name in the report, such as `@lock/redis` or `redlock 4.2.0`. */
  readonly name: string;
  /** Waits for `key` (up to `timeoutMs`) and holds it with `ttlMs`. */
  acquire(key: string, options: { ttlMs: number; timeoutMs: number }): Promise<HeldByAdapter>;
  /** Whether held locks are renewed automatically (for the memory workload's notes). */
  readonly keepalive: boolean;
  /** Requests the backend server has processed so far, when that can be read (e.g. Redis INFO). */
  requestCount?(): Promise<number>;
  /**
   * The same implementation configured with its library's own defaults (retry interval and
   * count), for the report's "defaults" rows; the adapter itself is set up on equal footing with
   * the others (the suite's common retry interval). Absent when the two are the same, or when the
   * implementation waits by notification and has no retry setting.
   */
  withDefaults?(): Promise<LockAdapter>;
  /** Frees connections. */
  close(): Promise<void>;
}

/** A group of adapters measured together against one server. */
export interface Suite {
  /** Name of the backend, such as `local` or `redis`. */
  readonly name: string;
  /** Versions and settings worth printing with the results. */
  readonly notes: string[];
  readonly adapters: LockAdapter[];
  /**
   * When set, only the uncontended workloads run, this many rounds with the adapters taking
   * turns, and each figure is the median of its rounds: for variants of one implementation whose
   * differences are smaller than this machine's drift between runs. Unset: every workload once.
   */
  readonly rounds?: number;
  /** How long each measurement runs, when the suite sets it (`BENCH_DURATION_MS` otherwise). */
  readonly durationMs?: number;
  /**
   * Set for in-process locks (such as @lock/local), which separate processes cannot contend for:
   * their contenders run in one process, sharing the locker as an application would. Unset:
   * every contender runs in a child process of its own, with its own locker and connection.
   */
  readonly processLocal?: boolean;
  /** Stops servers this suite started. */
  teardown(): Promise<void>;
}
