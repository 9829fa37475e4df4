/**
 * The small interface every backend implements. Core builds everything users see (waiting,
 * keepalive, loss detection, sessions, elections) on these few single-attempt operations.
 * See `docs/writing-a-backend.md` at the repository root for a guide.
 * @module
 */

/** One single-attempt acquire. */
export interface AcquireRequest {
  /** The lock's key, already validated (non-empty). */
  readonly key: string;
  /**
   * The owner token: `"<identity>.<secret>"`, unique per acquisition and unguessable.
   * Store it as the lock's value; compare it on extend and release.
   */
  readonly owner: string;
  /** Requested time to live in milliseconds, a finite number > 0. */
  readonly ttlMs: number;
}

/** The lock was taken. */
export interface AcquireGranted {
  readonly acquired: true;
  /** Fencing token: strictly larger than every earlier token handed out for this key. */
  readonly fence: number;
  /**
   * The TTL the backend actually granted, when it differs from the one asked for (etcd
   * rounds leases up, memcached to whole seconds). Core judges loss by the shorter of the two.
   */
  readonly ttlMs?: number;
}

/** The lock is held by someone else. */
export interface AcquireDenied {
  readonly acquired: false;
  /** The holder's owner token, when the backend can tell. Core shows only its identity part. */
  readonly holder?: string | undefined;
  /** How long the holder still has, in milliseconds, when the backend can tell. */
  readonly remainingMs?: number | undefined;
}

/** Outcome of {@link LockBackend.acquire}. */
export type AcquireResult = AcquireGranted | AcquireDenied;

/** Outcome of an owner-checked extend or release. */
export type OwnerCheckedResult = 'ok' | 'not-found' | 'forbidden';

/** One owner-checked extend. */
export interface ExtendRequest {
  readonly key: string;
  readonly owner: string;
  /** New time to live, counted from when the request is sent. */
  readonly ttlMs: number;
}

/** One owner-checked release. */
export interface ReleaseRequest {
  readonly key: string;
  readonly owner: string;
}

/** What a backend knows about a key. */
export interface BackendLockInfo {
  /** The holder's owner token. */
  readonly owner: string;
  /** Milliseconds the holder still has, if the backend can tell. */
  readonly remainingMs: number | undefined;
  /** The fence of the current holding, if the backend can tell. */
  readonly fence: number | undefined;
}

/** Options core passes to a backend that waits for a lock by itself (a fair queue). */
export interface QueuedAcquireOptions {
  /** Aborted when the caller gives up (timeout, abort, close); the backend must leave the queue. */
  readonly signal: AbortSignal;
  /** Core's monotonic clock; report `sentAt` in its terms. */
  readonly now: () => number;
}

/** A grant from {@link LockBackend.acquireQueued}. */
export interface QueuedGrant extends AcquireGranted {
  /**
   * `now()` when the request that made this grant valid was sent. Core counts the lock's
   * validity from it, never from when the reply arrived.
   */
  readonly sentAt: number;
}

/** Stops a {@link LockBackend.watch} subscription. */
export type Unsubscribe = () => void | Promise<void>;

/**
 * A lock store. Every method is a single attempt: core does the waiting, retrying, keepalive
 * and loss detection. Methods reject only for real failures (wrap them in `BackendError` with
 * the driver's error as `cause`); "held by someone else" and "not found" are results.
 *
 * Backends must fail fast when their server is unreachable: a call may not hang forever.
 */
export interface LockBackend {
  /** Short name for messages and benchmarks, such as `"redis"`. */
  readonly name: string;

  /** Take `key` for `owner` if nobody holds it, and hand out the next fence. One round trip where possible. */
  acquire(request: AcquireRequest): Promise<AcquireResult>;

  /** Reset the TTL of `key` if `owner` still holds it. */
  extend(request: ExtendRequest): Promise<OwnerCheckedResult>;

  /** Delete `key` if `owner` still holds it, and wake its waiters. */
  release(request: ReleaseRequest): Promise<OwnerCheckedResult>;

  /** Who holds `key`, or `undefined` when nobody does. */
  inspect(key: string): Promise<BackendLockInfo | undefined>;

  /** Release connections this backend opened. Must not close a client the user passed in. */
  close(): Promise<void>;

  /**
   * Optional: reach the server now, with one cheap round trip, and reject with a `BackendError`
   * naming the address (never a password) when it cannot be reached within the backend's
   * connect timeout. `connect(uri)` calls it unless the user asked for a lazy connection.
   * Without it the first lock call is the first contact.
   */
  connect?(): Promise<unknown>;

  /**
   * Optional: extend many locks in one round trip (one script call, one pipeline, one lease
   * keepalive). Results come back in request order. Without it core calls {@link extend} for each.
   */
  extendMany?(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]>;

  /**
   * Optional: call `onChange` whenever `key` may have become free (released or deleted). Core
   * subscribes *before* it tries, so a release between a failed try and the wait is not missed.
   * Spurious calls are fine; missed ones only cost a poll interval.
   */
  watch?(key: string, onChange: () => void): Unsubscribe | Promise<Unsubscribe>;

  /**
   * Optional: wait in a fair (first-come-first-served) queue until the lock is granted.
   * When present, core's `lock()` uses it instead of its own try-and-wait loop.
   */
  acquireQueued?(request: AcquireRequest, options: QueuedAcquireOptions): Promise<QueuedGrant>;

  /**
   * Optional: whether `lock(key)` (with a timeout other than 0) should join the queue of
   * {@link acquireQueued} at once instead of trying first, say because this backend saw `key`
   * contended a moment ago: a try would then be a round trip (and on some servers a write)
   * that only fails. Return true only if `acquireQueued` takes a free lock in one round trip.
   */
  queuesAtOnce?(key: string): boolean;
}
