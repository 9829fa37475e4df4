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

  /**
   * Optional (semaphores, native): one single-attempt acquire of `count` permits of the
   * semaphore or read-write lock at `key`, applying the rules listed above this interface
   * atomically in one round trip (a script, a transaction, a conditional write). Replies
   * granted `{ fence }`, denied `{ inUse, holders, ahead, retryAfterMs }` (joining or keeping the
   * line when `wait`), or `{ mismatch }`. Expiry is judged by the server's clock (say which in
   * your README). Rejects only for real failures: a lost reply is an unknown outcome, which
   * core handles as for locks (an owner-checked {@link semaphoreRelease} in the background).
   * Keep semaphore records apart from mutex keys of the same name. Implement all of
   * `semaphoreAcquire`, `semaphoreExtend`, `semaphoreRelease` and `semaphoreInspect`, or none.
   */
  semaphoreAcquire?(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult>;

  /**
   * Optional (semaphores, native): reset the expiry of `owner`'s holding of `key` to `ttlMs` from
   * now, owner-checked and atomic. `'ok'`, or `'not-found'` when `owner` holds nothing there
   * (released, expired, taken away). A place in line is not a holding.
   */
  semaphoreExtend?(request: ExtendRequest): Promise<SemaphoreOwnerResult>;

  /**
   * Optional (semaphores, native): extend many holdings in one round trip; results in request
   * order. Without it core calls {@link semaphoreExtend} for each.
   */
  semaphoreExtendMany?(requests: readonly ExtendRequest[]): Promise<SemaphoreOwnerResult[]>;

  /**
   * Optional (semaphores, native): remove `owner`'s holding of `key` and its place in line, if
   * any, and wake `watch(key)` subscribers. `'ok'` when a holding was removed; `'not-found'`
   * otherwise (also when only a place in line was). Idempotent: core also calls it to leave the
   * line and after an acquire whose reply was lost.
   */
  semaphoreRelease?(request: ReleaseRequest): Promise<SemaphoreOwnerResult>;

  /** Optional (semaphores, native): the live holders and waiters of `key`, or `undefined` if none. */
  semaphoreInspect?(key: string): Promise<BackendSemaphoreInfo | undefined>;

  /**
   * Optional: why this backend deliberately serves no semaphores or read-write locks (it has
   * neither the native methods nor the record primitive), such as a quorum of independent
   * servers. `locker.semaphore()` and `locker.readWriteLock()` put it in their error.
   */
  readonly semaphoresUnsupported?: string;

  /**
   * Optional (semaphores, fallback): read the record core keeps at `key` (stored apart from
   * mutex keys of the same name), or `undefined` if there is none. A backend with `readRecord`
   * and `writeRecord` but no `semaphoreAcquire` gets semaphores from core, which applies
   * `decideSemaphore` to the record in a compare-and-set loop.
   *
   * **Which clock decides expiry in the fallback**: no machine's wall clock. Core stamps every
   * holder and waiter entry with a fresh value each time it is written, and an observer counts an
   * entry as expired once it has seen the *same stamp* for the entry's whole TTL by its own
   * monotonic clock, counted from the reply that first showed it (the Amazon DynamoDB lock client
   * method, as `@lock/docstore` uses on DynamoDB and MongoDB). Clock skew between machines
   * therefore does nothing; only clock *rates* must agree (core's `driftFactor`). The price: an
   * observer that has just started waits a full TTL before it frees a crashed holder's permits.
   */
  readRecord?(key: string): Promise<VersionedRecord | undefined>;

  /**
   * Optional (semaphores, fallback): write `value` at `key` if the record's version is still
   * `expectedVersion` (`undefined`: only if no record exists), atomically: `'ok'`, or
   * `'conflict'` when someone wrote in between. Keep the record without expiry: its fence counter
   * must outlive every holder for fences to keep growing. Wake `watch(key)` subscribers if you
   * can. A lost reply rejects: its outcome is unknown, and core handles it as for locks (an acquire is
   * released owner-checked in the background; a renewal bounds validity by the shorter TTL).
   */
  writeRecord?(
    key: string,
    value: string,
    expectedVersion: string | undefined,
  ): Promise<'ok' | 'conflict'>;
}

// ───────────────────────────── Semaphores and read-write locks ─────────────────────────────
//
// Optional methods, like `acquireQueued`: a backend that has them serves `locker.semaphore()` and
// `locker.readWriteLock()` natively; one that has only the record primitive (`readRecord` /
// `writeRecord`) gets them from core's fallback, which runs the same rules
// (`decideSemaphore` in `semaphore-rules.ts`) in a compare-and-set loop. One record per key
// holds everything: the kind and permit count, the holder set with per-holder expiry, the line of
// waiters (for fairness), and the fence counter.
//
// The rules every implementation keeps (the reference is `decideSemaphore`, unit-tested in core):
//
// 1. Expired holders and waiters are dropped before anything else is decided, judged by ONE
//    clock: the server's where the backend has one (Redis `TIME` inside the script, etcd leases,
//    the in-process store's clock), else the fallback's observation rule (see `readRecord`).
// 2. A record with no live holder and no live waiter is idle: a request may set its kind and
//    permit count afresh (the fence counter is kept). A busy record keeps them, and a request
//    with another kind or permit count gets `{ acquired: false, mismatch }`, changing nothing.
// 3. An owner that already holds is granted again with its own fence and its expiry reset (a
//    replayed or retried acquire recognises its own token).
// 4. Strict FIFO with reservation: walk the line from its head, giving each waiter its `count`
//    from the free permits (`permits − Σ holders' counts`) until one does not fit. A request is
//    granted when it is reached in that walk (it is in line, or — not in line — the whole line
//    fits) and its own `count` fits what is left. So a waiter needing many permits is never passed
//    by later small ones, and a waiting writer (count = permits) blocks every later reader.
// 5. A grant increments the fence counter and gives the holder that value: fences strictly grow
//    across every grant of the key, reads and writes alike, and survive the key going idle.
// 6. Denied with `wait: true`: the owner joins the end of the line with expiry `now + ttlMs`,
//    or keeps its place, whose expiry is reset to `now + ttlMs` once less than two thirds of
//    `ttlMs` is left (core retries at least every `ttlMs / 3`); a waiter that stops retrying
//    drops out when it expires.
// 7. Every change that frees permits or moves the line wakes `watch(key)` subscribers.

/**
 * What a semaphore request is for. A read-write lock is a semaphore of {@link RW_PERMITS}
 * permits where a read takes 1 and a write takes all of them; `mode` keeps the two kinds of
 * record apart and lets `inspect` tell readers from the writer.
 */
export type SemaphoreMode = 'permit' | 'read' | 'write';

/** The kind of a semaphore record: a counting semaphore, or a read-write lock. */
export type SemaphoreKind = 'semaphore' | 'read-write';

/**
 * Largest permit count of a semaphore. Every holder is an entry in one record (a Redis sorted
 * set, a memcached item, one document, one etcd key range), so 10,000 holders of ~100 bytes is
 * about 1 MB, memcached's default item limit. A larger count is almost always a rate limit in
 * disguise.
 */
export const MAX_PERMITS = 10_000;

/**
 * The permit count of every read-write lock record: a read takes 1, a write takes all. So at
 * most this many readers hold a read-write lock at once (the next ones wait).
 */
export const RW_PERMITS = MAX_PERMITS;

/** One single-attempt semaphore (or read-write) acquire. Validated by core before it is sent. */
export interface SemaphoreAcquireRequest {
  /** The semaphore's key. Backends keep semaphore records apart from mutex keys of the same name. */
  readonly key: string;
  /** The owner token of this acquisition (as for {@link AcquireRequest.owner}). */
  readonly owner: string;
  /** `'permit'` for a semaphore; `'read'` / `'write'` for a read-write lock. */
  readonly mode: SemaphoreMode;
  /** Permits asked for: an integer in `1..permits` (a read: 1; a write: `permits`). */
  readonly count: number;
  /**
   * The key's permit count as the caller knows it: an integer in `1..MAX_PERMITS`
   * ({@link RW_PERMITS} for a read-write lock). Sets the record's count when the record is idle;
   * must match it otherwise (rule 2).
   */
  readonly permits: number;
  /** Time to live of the grant (and of the place in line), in milliseconds. */
  readonly ttlMs: number;
  /**
   * Denied, join the line (or keep and refresh this owner's place) for `ttlMs` (rule 6). `false`
   * for `tryAcquire`: never join the line, and leave a place this owner had untouched.
   */
  readonly wait: boolean;
}

/** The semaphore request was granted. */
export interface SemaphoreGranted {
  readonly acquired: true;
  /** This grant's fence: larger than every fence handed out before for this key (rule 5). */
  readonly fence: number;
  /**
   * The TTL actually granted, when it differs from the one asked for (rounded up by the store);
   * core judges loss by the shorter of the two.
   */
  readonly ttlMs?: number;
}

/** The permits are not free (or others are in line first). Nothing but the line changed. */
export interface SemaphoreDenied {
  readonly acquired: false;
  readonly mismatch?: undefined;
  /** Permits held right now (live holders only). */
  readonly inUse: number;
  /** Number of live holders. */
  readonly holders: number;
  /** Live waiters in line ahead of this owner (all of them when it is not in line). */
  readonly ahead: number;
  /**
   * When something will change by itself, in ms (the earliest expiry of a holder or of a waiter
   * ahead): a waiter without notifications retries no later than this. `undefined` if unknown.
   */
  readonly retryAfterMs?: number | undefined;
}

/**
 * The key is in use as another kind of record, or with another permit count (rule 2). Core
 * turns this into an `InvalidArgumentError` naming both counts. Nothing changed.
 */
export interface SemaphoreMismatch {
  readonly acquired: false;
  readonly mismatch: { readonly kind: SemaphoreKind; readonly permits: number };
}

/** Outcome of {@link LockBackend.semaphoreAcquire}. */
export type SemaphoreAcquireResult = SemaphoreGranted | SemaphoreDenied | SemaphoreMismatch;

/** Outcome of an owner-checked semaphore extend or release: a holder set has no "forbidden". */
export type SemaphoreOwnerResult = 'ok' | 'not-found';

/** One holder of a semaphore, as {@link LockBackend.semaphoreInspect} reports it. */
export interface BackendSemaphoreHolder {
  /** The holder's owner token (core shows only its identity part). */
  readonly owner: string;
  /** Permits it holds. */
  readonly count: number;
  /** `'permit'`, `'read'` or `'write'`. */
  readonly mode: SemaphoreMode;
  /** Its grant's fence. */
  readonly fence: number;
  /** Milliseconds it still has, by the clock that judges expiry, if the backend can tell. */
  readonly remainingMs: number | undefined;
}

/** What a backend knows about a semaphore key with live holders or waiters. */
export interface BackendSemaphoreInfo {
  readonly kind: SemaphoreKind;
  readonly permits: number;
  /** Σ of the live holders' counts. */
  readonly inUse: number;
  /** Live holders, in grant order. */
  readonly holders: readonly BackendSemaphoreHolder[];
  /** Live waiters in line. */
  readonly waiting: number;
  /** The last fence handed out for the key. */
  readonly fence: number;
}

/**
 * A stored record and its version, for core's compare-and-set fallback. `version` is opaque to
 * core (a memcached CAS unique, an etcd `mod_revision`, a document's version counter) and only
 * passed back to {@link LockBackend.writeRecord}.
 */
export interface VersionedRecord {
  /** The record's text, exactly as core wrote it (JSON). */
  readonly value: string;
  /** Changes on every write of the record. */
  readonly version: string;
}
