import { setMaxListeners } from 'node:events';
import {
  type AcquireRequest,
  type AcquireResult,
  BackendError,
  type BackendLockInfo,
  type BackendSemaphoreInfo,
  type ExtendRequest,
  identityOf,
  type LockBackend,
  LockClosedError,
  type OwnerCheckedResult,
  type QueuedAcquireOptions,
  type QueuedGrant,
  type ReleaseRequest,
  type SemaphoreAcquireRequest,
  type SemaphoreAcquireResult,
  type SemaphoreOwnerResult,
  type Unsubscribe,
} from '@lock/core';
import {
  type Etcd3,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  type ICompare,
  type IKeyValue,
  type ITxnRequest,
} from 'etcd3';
import { type Attempts, AttemptTracker, type TxnReply } from './attempts.js';
import { toBackendError, withDeadline } from './call.js';
import { CallsUnderWay } from './calls-under-way.js';
import { createClient } from './client.js';
import { DeleteWatches } from './delete-watches.js';
import { FolderWatches } from './folder-watches.js';
import { KeepAliveChannel } from './keepalive-channel.js';
import { KeyLayout, rangeEnd, SemaphoreLayout } from './keys.js';
import { allIn, createdAt, deleteEntry, firstIn, ownedBy, putEntry, putIfEmpty } from './kv-ops.js';
import { type Lease, LeaseGoneError } from './lease.js';
import { LeasePool } from './lease-pool.js';
import { LeaseRemaining } from './lease-remaining.js';
import { OpenStreams } from './open-streams.js';
import { type EtcdBackendOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type QueueContext, waitInQueue } from './queue-wait.js';
import { removeInBackground } from './removal.js';
import { EtcdSemaphores } from './semaphores.js';
import { TxnBatcher } from './txn-batcher.js';
import { guardWatchStream } from './watch-stream-guard.js';

/** A lock (or semaphore permits) this backend took: its entry, the revision that created it, and its lease. */
export interface Holding {
  readonly key: string;
  readonly entry: Buffer;
  readonly revision: string;
  lease: Lease;
  /** Set for semaphore permits: the semaphore's folder and the entry's value (see `semaphore-ops.ts`). */
  readonly semaphore?: { readonly folder: Buffer; readonly value: Buffer };
}

/** Counters for benchmarks and tests. */
export interface EtcdBackendStats {
  /** Lease keepalive messages sent (each renews every lock and waiter of one lease). */
  keepalives: number;
}

/**
 * Locks on etcd, after etcd's own `concurrency` recipe: one lease per owner identity and TTL
 * (a core locker or session), an entry per contender under `<prefix><key>/`, the entry with the
 * lowest create revision holds the lock, and its create revision is the fence (monotonic
 * cluster-wide). Waiters queue first-come-first-served and take the lock on the delete event of
 * the last entry ahead of them.
 * @example
 * ```ts
 * import { createLocker } from '@lock/core';
 * import { EtcdBackend } from '@lock/etcd';
 *
 * const locker = createLocker(new EtcdBackend({ hosts: 'http://127.0.0.1:2379' }), { ttl: 10_000 });
 * await locker.withLock('nightly-report', async (signal, lock) => {
 *   console.log('fence', lock.fence, 'aborted?', signal.aborted);
 * });
 * await locker.close();
 * ```
 */
export class EtcdBackend implements LockBackend {
  /** Always `"etcd"`. */
  readonly name = 'etcd';
  /** The `etcd3` client in use (yours, if you passed one). */
  readonly client: Etcd3;
  /** Where this backend's keys live. */
  readonly layout: KeyLayout;
  /** Where this backend's semaphores live. */
  readonly #semaphoreLayout: SemaphoreLayout;
  /** Counters for benchmarks and tests. */
  readonly stats: EtcdBackendStats = { keepalives: 0 };
  readonly #options: ResolvedOptions;
  readonly #ownsClient: boolean;
  /** The streams of the client this backend made (see {@link OpenStreams}). */
  readonly #streams = new OpenStreams();
  readonly #leases: LeasePool;
  readonly #held = new Map<string, Holding>();
  readonly #closed = new AbortController();
  #closing: Promise<void> | undefined;
  /** Calls under way, which `close()` lets finish first. */
  readonly #underWay = new CallsUnderWay();
  readonly #queue: QueueContext;
  #connected = false;
  readonly #keepAlives: KeepAliveChannel;
  readonly #watches: DeleteWatches;
  /** Tells the client's retry policy which call it runs (see `AttemptTracker`). */
  readonly #attempts = new AttemptTracker();
  /** Delete watches of lock folders, shared by this backend's waiters (see `FolderWatches`). */
  readonly #folderWatches = new FolderWatches((folder) => this.#watches.folder(folder));
  /** Other owners' leases' remaining TTLs, asked once per lease while they last (see `LeaseRemaining`). */
  readonly #remaining = new LeaseRemaining(async (id) => {
    const reply = await this.#call('lease time-to-live', () =>
      this.client.leaseClient.leaseTimeToLive({ ID: id }),
    );
    return Number(reply.TTL);
  });
  /** Semaphores and read-write locks (see `semaphores.ts`). */
  readonly #semaphores: EtcdSemaphores;
  /** Acquires and releases made in one tick go out as one transaction (see `TxnBatcher`). */
  readonly #batcher = new TxnBatcher(
    (request, operation, key) => this.#txn(operation, request, key),
    (error) => isLeaseGone(error) || isPermissionDenied(error),
  );

  constructor(options: EtcdBackendOptions = {}) {
    this.#options = resolveOptions(options);
    this.#ownsClient = this.#options.client === undefined;
    this.client =
      this.#options.client ?? createClient(this.#options, this.#attempts, this.#streams);
    guardWatchStream(this.client);
    this.layout = new KeyLayout(this.#options.prefix);
    this.#semaphoreLayout = new SemaphoreLayout(this.#options.prefix);
    this.#keepAlives = new KeepAliveChannel(() => this.client.leaseClient.leaseKeepAlive());
    this.#watches = new DeleteWatches(
      this.client,
      `${this.layout.prefix}\u0000anchor`,
      this.#options.requestTimeoutMs,
    );
    // Every queued wait listens on it (and removes its listener when done): no limit applies.
    setMaxListeners(0, this.#closed.signal);
    this.#leases = new LeasePool(
      {
        grant: (seconds) => this.#grant(seconds),
        keepAlive: (id) => this.#keepAliveOnce(id),
        revoke: (id) => this.#revoke(id),
      },
      () => {
        this.stats.keepalives += 1;
      },
    );
    this.#queue = {
      layout: this.layout,
      leases: this.#leases,
      closed: this.#closed.signal,
      pollIntervalMs: this.#options.queuePollIntervalMs,
      giveUpAfterMs: this.#options.requestTimeoutMs,
      txn: (operation, request, key) => this.#txn(operation, request, key),
      batchedTxn: (operation, request, key) =>
        this.#batcher.run(request, this.layout.folder(key).toString('latin1'), operation, key),
      listenDeletes: (folder, listener) => this.#folderWatches.listen(folder, listener),
      hearingDeletes: (folder) => this.#folderWatches.isLive(folder),
      watchDelete: (entry, fromRevision, onDelete) =>
        this.#watches.entry(entry, fromRevision, onDelete),
      adopt: (owner, holding) => this.#adopt(owner, holding),
      refusedOutright,
      leaseGone: isLeaseGone,
      removeLater: (entry, guard, key, lease) => this.#removeLater(entry, guard, key, lease),
    };
    this.#semaphores = new EtcdSemaphores({
      layout: this.#semaphoreLayout,
      leases: this.#leases,
      batch: (request, folder, operation, key) =>
        this.#batcher.run(request, folder.toString('latin1'), operation, key),
      txn: (operation, request, key) => this.#txn(operation, request, key),
      removeLater: (entry, guard, key, lease) => this.#removeLater(entry, guard, key, lease),
      adopt: (owner, holding) => this.#adopt(owner, holding),
      heldBy: (owner) => this.#held.get(owner),
      forget: (owner) => this.#forget(owner),
      remainingOf: (leaseId) => this.#remainingOfLease(leaseId),
      refusedOutright,
      isLeaseGone,
    });
  }

  /**
   * Reaches the cluster now, with one round trip (a read of one key under this backend's
   * prefix, so a user restricted to the prefix may make it; an auth token is fetched first when
   * there are credentials), within the dial timeout. `connect(uri)` calls it unless asked to be
   * lazy, so a wrong address, a frozen member or a wrong password shows up there.
   * @throws {BackendError} naming the members, with the driver's error as `cause`.
   */
  async connect(): Promise<this> {
    this.#assertOpen();
    try {
      await this.#call('connect', () =>
        this.client.kv.range({ key: Buffer.from(`${this.layout.prefix}\u0000connect`) }),
      );
    } catch (error) {
      const hosts = this.#options.hosts.map((host) => host.replace(/^https?:\/\//, '')).join(', ');
      throw new BackendError(`could not reach etcd at ${hosts}: ${(error as Error).message}`, {
        cause: (error as { cause?: unknown }).cause ?? error,
      });
    }
    return this;
  }

  /**
   * Takes `key` if nobody holds or waits for it: one transaction that writes this owner's
   * entry only when the lock's folder is empty, else reads the holder (no write when held).
   */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    this.#assertOpen();
    return this.#underWay.run(() => this.#acquire(request));
  }

  async #acquire({ key, owner, ttlMs }: AcquireRequest): Promise<AcquireResult> {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const lease = await this.#leases.lease(identityOf(owner), ttlMs).catch((error: unknown) => {
        throw toBackendError('lease grant', error, key);
      });
      let outcome: AcquireResult | 'retry';
      try {
        outcome = await this.#acquireOn(lease, { key, owner, ttlMs }, started, attempt);
      } catch (error) {
        this.#leases.release(lease);
        throw error;
      }
      if (outcome === 'retry' || !outcome.acquired) this.#leases.release(lease);
      if (outcome !== 'retry') return outcome;
    }
  }

  /**
   * One acquire attempt on `lease` (whose use the caller holds, and keeps if the lock is
   * granted); `retry` when the lease turned out to be gone and a fresh one should be tried.
   */
  async #acquireOn(
    lease: Lease,
    { key, owner, ttlMs }: AcquireRequest,
    started: number,
    attempt: number,
  ): Promise<AcquireResult | 'retry'> {
    const folder = this.layout.folder(key);
    const entry = this.layout.entry(key, lease.id, owner);
    // The lock lives as long as its lease: make sure etcd keeps the lease for a full TTL
    // counted from before this call (core counts validity from then). A no-op when a renewal
    // sent within the lease's headroom covers it (see leaseSecondsFor); else it runs alongside
    // the transaction. The put itself fails if etcd no longer has the lease.
    const renewal = lease.ensureValidUntil(started + ttlMs);
    renewal.catch(() => {});
    let reply: TxnReply;
    try {
      reply = await this.#batcher.run(
        putIfEmpty(folder, entry, owner, lease.id),
        folder.toString('latin1'),
        'acquire',
        key,
      );
    } catch (error) {
      if (attempt < 2 && isLeaseGone(error)) {
        lease.kill();
        return 'retry';
      }
      if (!refusedOutright(error)) {
        // No reply does not mean no write: take the entry back if it landed, and since it may
        // also land after that, poison the lease (see LeasePool.poison).
        this.#removeLater(entry, ownedBy(entry, owner), key, lease);
        this.#leases.poison(lease);
      }
      throw error;
    }
    const holder = reply.succeeded ? undefined : reply.responses[0]?.response_range?.kvs[0];
    // Our own entry at the head: an earlier attempt of this very call wrote it (the driver
    // retried it on another member after the first one committed but failed to answer).
    const ownEntry = isEntryOf(holder, entry, owner) ? holder : undefined;
    if (!reply.succeeded && ownEntry === undefined) {
      return {
        acquired: false,
        holder: holder?.value.toString(),
        remainingMs: holder === undefined ? undefined : await this.#remainingOf(holder),
      };
    }
    const revision = ownEntry?.create_revision ?? reply.header.revision;
    try {
      await renewal;
    } catch (error) {
      // We wrote the entry but cannot vouch for its lease: take it back rather than hand out
      // a lock that may already be gone.
      await this.#deleteEntry(entry, revision, key).catch(() => {
        this.#removeLater(entry, createdAt(entry, revision), key, lease);
      });
      if (attempt < 2 && error instanceof LeaseGoneError) return 'retry';
      throw toBackendError('lease keepalive', error, key);
    }
    this.#adopt(owner, { key, entry, revision, lease });
    return { acquired: true, fence: Number(revision), ttlMs: lease.grantedMs };
  }

  /**
   * Waits first-come-first-served: keeps this owner's entry, watches only the entry just
   * before it, and is granted when none is left before it. See `queue-wait.ts`.
   */
  async acquireQueued(
    request: AcquireRequest,
    options: QueuedAcquireOptions,
  ): Promise<QueuedGrant> {
    this.#assertOpen();
    return waitInQueue(this.#queue, request, options);
  }

  /**
   * Whether core's `lock(key)` should queue without a plain try first: when a waiter of this
   * backend waited for `key` within the last second (its delete watch is still live), the
   * lock is likely taken, and the queue's first transaction takes it anyway if it is free.
   * Otherwise `lock()` tries first: an uncontended acquire is cheaper on the client.
   */
  queuesAtOnce(key: string): boolean {
    return this.#folderWatches.isLive(this.layout.folder(key));
  }

  /** Renews the lock's lease if `owner` still holds `key`. */
  async extend(request: ExtendRequest): Promise<OwnerCheckedResult> {
    const [result] = await this.extendMany([request]);
    return result as OwnerCheckedResult;
  }

  /**
   * Renews many locks: one lease keepalive per lease (normally one: a core keepalive group is
   * one locker and one TTL), plus one `LeaseTimeToLive` that lists the lease's keys, so a
   * lock whose entry was deleted is reported even though its lease lives on.
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    this.#assertOpen();
    return this.#underWay.run(() => this.#extendMany(requests, false));
  }

  async #extendMany(
    requests: readonly ExtendRequest[],
    permits: boolean,
  ): Promise<OwnerCheckedResult[]> {
    const started = performance.now();
    const results: OwnerCheckedResult[] = new Array(requests.length).fill('not-found');
    // Holdings are captured once: a concurrent release may forget them while we wait.
    const byLease = new Map<Lease, { index: number; holding: Holding }[]>();
    const unknown: number[] = [];
    await Promise.all(
      requests.map(async (request, index) => {
        const holding = this.#held.get(request.owner);
        if (
          holding === undefined ||
          holding.key !== request.key ||
          (holding.semaphore !== undefined) !== permits
        ) {
          unknown.push(index);
          return;
        }
        if (request.ttlMs > holding.lease.grantedMs) {
          await this.#moveLease(request, holding);
        } else if (holding.lease.poisoned) {
          // Best effort: until it moves, the lock stays on (and renews) the poisoned lease.
          await this.#moveLease(request, holding).catch(() => {});
        }
        const list = byLease.get(holding.lease) ?? [];
        list.push({ index, holding });
        byLease.set(holding.lease, list);
      }),
    );
    const missing: number[] = [...unknown];
    await Promise.all(
      [...byLease].map(async ([lease, members]) => {
        const ttlMs = Math.max(...members.map((m) => (requests[m.index] as ExtendRequest).ttlMs));
        const [renewed, keys] = await Promise.all([
          lease.ensureValidUntil(started + ttlMs).then(
            () => true,
            (error: unknown) => {
              if (error instanceof LeaseGoneError) return false;
              throw toBackendError('lease keepalive', error);
            },
          ),
          this.#call('lease time-to-live', () =>
            this.client.leaseClient.leaseTimeToLive({ ID: lease.id, keys: true }),
          ),
        ]);
        const present = new Set(keys.keys.map((k) => Buffer.from(k).toString('latin1')));
        for (const { index, holding } of members) {
          if (renewed && present.has(holding.entry.toString('latin1'))) results[index] = 'ok';
          else missing.push(index);
        }
      }),
    );
    if (missing.length > 0) {
      await this.#judgeMissing(requests, missing, results, started, permits);
    }
    return results;
  }

  /** Deletes the lock's entry if `owner` still holds `key`, which wakes the next waiter. */
  async release(request: ReleaseRequest): Promise<OwnerCheckedResult> {
    this.#assertOpen();
    return this.#underWay.run(() => this.#release(request));
  }

  async #release({ key, owner }: ReleaseRequest): Promise<OwnerCheckedResult> {
    const holding = this.#held.get(owner);
    if (holding !== undefined && holding.key === key && holding.semaphore === undefined) {
      let reply: TxnReply;
      try {
        const folder = this.layout.folder(key);
        reply = await this.#batcher.run(
          {
            compare: [createdAt(holding.entry, holding.revision)],
            success: [deleteEntry(holding.entry)],
            failure: [firstIn(folder)],
          },
          folder.toString('latin1'),
          'release',
          key,
        );
      } catch (error) {
        // The entry may still be there, kept alive by the lease's other locks: keep trying.
        this.#removeLater(
          holding.entry,
          createdAt(holding.entry, holding.revision),
          key,
          holding.lease,
        );
        throw error;
      } finally {
        // Only now: forgetting may revoke the lease, which must not race the delete above.
        this.#forget(owner);
      }
      if (reply.succeeded) return 'ok';
      // Our entry is gone. If the driver sent the release twice (retried on another member),
      // the first attempt may have deleted it and this answer is the retry's: a release.
      if (reply.attempts > 1) return 'ok';
      return reply.responses[0]?.response_range?.kvs.length ? 'forbidden' : 'not-found';
    }
    // Not taken through this backend: find the owner's entry by its value.
    const entries = await this.#entries(key);
    const index = entries.findIndex((kv) => kv.value.toString() === owner);
    if (index < 0) return entries.length > 0 ? 'forbidden' : 'not-found';
    const mine = entries[index] as IKeyValue;
    const deleted = await this.#deleteEntry(mine.key, mine.create_revision, key);
    if (index > 0) return 'forbidden';
    return deleted ? 'ok' : 'not-found';
  }

  /** The holder of `key` (lowest create revision), its lease's remaining TTL, and its fence. */
  async inspect(key: string): Promise<BackendLockInfo | undefined> {
    this.#assertOpen();
    return this.#underWay.run(() => this.#inspect(key));
  }

  async #inspect(key: string): Promise<BackendLockInfo | undefined> {
    const folder = this.layout.folder(key);
    const reply = await this.#call(
      'inspect',
      () =>
        this.client.kv.range({
          key: folder,
          range_end: rangeEnd(folder),
          sort_order: 'Ascend',
          sort_target: 'Create',
          limit: 1,
        }),
      key,
    );
    const holder = reply.kvs[0];
    if (holder === undefined) return undefined;
    return {
      owner: holder.value.toString(),
      remainingMs: await this.#remainingOf(holder),
      fence: Number(holder.create_revision),
    };
  }

  /**
   * Calls `onChange` whenever an entry of `key` is deleted (a release, an expiry), as a lock or
   * as a semaphore: two watches on the backend's shared watch stream.
   */
  async watch(key: string, onChange: () => void): Promise<Unsubscribe> {
    this.#assertOpen();
    const lock = this.#watches.changes(this.layout.folder(key), onChange);
    const semaphore = this.#watches.changes(this.#semaphoreLayout.folder(key), onChange);
    return () => {
      lock();
      semaphore();
    };
  }

  /**
   * Semaphores natively (see `semaphores.ts`): one transaction puts this owner's entry in the
   * semaphore's line (if it fits, or to wait) and reads the line; a waiter's retry reads only the
   * entries ahead of it.
   */
  async semaphoreAcquire(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult> {
    this.#assertOpen();
    return this.#underWay.run(() => this.#semaphores.acquire(request));
  }

  /** Renews the lease of `owner`'s permits, as `extend` does for a lock. */
  async semaphoreExtend(request: ExtendRequest): Promise<SemaphoreOwnerResult> {
    const [result] = await this.semaphoreExtendMany([request]);
    return result as SemaphoreOwnerResult;
  }

  /** Renews many holdings: one lease keepalive and one `LeaseTimeToLive` per lease, as `extendMany`. */
  async semaphoreExtendMany(requests: readonly ExtendRequest[]): Promise<SemaphoreOwnerResult[]> {
    this.#assertOpen();
    const results = await this.#underWay.run(() => this.#extendMany(requests, true));
    return results.map((result) => (result === 'ok' ? 'ok' : 'not-found'));
  }

  /** Deletes `owner`'s entry (its permits, or its place in line), which wakes the waiters. */
  async semaphoreRelease(request: ReleaseRequest): Promise<SemaphoreOwnerResult> {
    this.#assertOpen();
    return this.#underWay.run(() => this.#semaphores.release(request));
  }

  /** The holders (the head of the line that fits in the permits) and the waiters of `key`. */
  async semaphoreInspect(key: string): Promise<BackendSemaphoreInfo | undefined> {
    this.#assertOpen();
    return this.#underWay.run(() => this.#semaphores.inspect(key));
  }

  /**
   * Rejects new calls and pending queued waits, lets calls already under way finish (a release
   * in flight gets its own answer), then revokes this backend's leases (deleting their entries
   * at once) and closes the client unless it was passed in. Calling it again returns the same
   * promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed.abort(new LockClosedError('etcd backend'));
    this.#watches.close();
    this.#folderWatches.close();
    await this.#underWay.settled(this.#options.requestTimeoutMs);
    this.#held.clear();
    this.#semaphores.clear();
    this.#keepAlives.close(this.#closed.signal.reason);
    try {
      await withDeadline('close', this.#options.requestTimeoutMs, () => this.#leases.revokeAll());
    } catch {
      // A down cluster: the leases expire by their TTL.
    } finally {
      if (this.#ownsClient) {
        // Streams first: closing the client would leave them open (see OpenStreams).
        this.#streams.cancelAll();
        this.client.close();
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed.signal.aborted) throw this.#closed.signal.reason;
  }

  /**
   * One call under our deadline: the dial timeout until the cluster first answered. `attempts`
   * records how often the driver sent it; once we stop waiting it starts no further attempt.
   */
  async #call<T>(
    operation: string,
    run: () => Promise<T>,
    key?: string,
    attempts: Attempts = { count: 0, abandoned: false },
  ): Promise<T> {
    const ms = this.#connected ? this.#options.requestTimeoutMs : this.#options.dialTimeoutMs;
    try {
      const result = await withDeadline(
        operation,
        ms,
        () => this.#attempts.track(attempts, run),
        key,
      );
      this.#connected = true;
      return result;
    } finally {
      attempts.abandoned = true;
    }
  }

  async #txn(operation: string, request: ITxnRequest, key?: string): Promise<TxnReply> {
    const attempts: Attempts = { count: 0, abandoned: false };
    const reply = await this.#call(operation, () => this.client.kv.txn(request), key, attempts);
    return { ...reply, attempts: attempts.count };
  }

  async #grant(seconds: number): Promise<{ id: string; ttlSeconds: number }> {
    const reply = await this.#call('lease grant', () =>
      this.client.leaseClient.leaseGrant({ TTL: seconds }),
    );
    return { id: reply.ID, ttlSeconds: Number(reply.TTL) };
  }

  async #keepAliveOnce(id: string): Promise<number> {
    try {
      return await this.#call('lease keepalive', () => this.#keepAlives.keepAlive(id));
    } catch (error) {
      // A renewal without a reply may still be answered later: never let that answer be
      // taken for a newer request's (see KeepAliveChannel).
      this.#keepAlives.reset(error);
      throw error;
    }
  }

  async #revoke(id: string): Promise<void> {
    try {
      await this.#call('lease revoke', () => this.client.leaseClient.leaseRevoke({ ID: id }));
    } catch (error) {
      if (!isLeaseGone(error)) throw error;
    }
  }

  /** Remaining TTL of the holder's lease in ms, or `undefined` when etcd cannot tell. */
  #remainingOf(holder: IKeyValue): Promise<number | undefined> {
    return this.#remainingOfLease(holder.lease);
  }

  async #remainingOfLease(leaseId: string): Promise<number | undefined> {
    if (leaseId === '0') return undefined;
    try {
      return await this.#remaining.remainingMs(leaseId);
    } catch {
      return undefined;
    }
  }

  async #holderOf(key: string): Promise<IKeyValue | undefined> {
    const reply = await this.#txn('read', { success: [firstIn(this.layout.folder(key))] }, key);
    return reply.responses[0]?.response_range?.kvs[0];
  }

  async #entries(key: string): Promise<IKeyValue[]> {
    const reply = await this.#txn('read', { success: [allIn(this.layout.folder(key))] }, key);
    return reply.responses[0]?.response_range?.kvs ?? [];
  }

  /**
   * Deletes `entry` in the background while `guard` holds, until etcd answers, the backend
   * closes, or `lease` (which the entry is on) is gone: see `removal.ts`.
   */
  #removeLater(entry: Buffer, guard: ICompare, key: string, lease: Lease): void {
    removeInBackground(
      (request) => this.#txn('cleanup', request, key),
      entry,
      guard,
      () => this.#closed.signal.aborted || lease.dead,
    );
  }

  /**
   * Deletes `entry` if it is still the one created at `revision`; true if it was (or if the
   * driver sent the delete twice and the first may have done it).
   */
  async #deleteEntry(entry: Buffer, revision: string, key: string): Promise<boolean> {
    const reply = await this.#txn(
      'delete',
      { compare: [createdAt(entry, revision)], success: [deleteEntry(entry)] },
      key,
    );
    return reply.succeeded || reply.attempts > 1;
  }

  /** Records a granted lock; the use of its lease that its acquire took becomes the lock's. */
  #adopt(owner: string, holding: Holding): void {
    this.#held.set(owner, holding);
  }

  #forget(owner: string): void {
    const holding = this.#held.get(owner);
    if (holding === undefined) return;
    this.#held.delete(owner);
    this.#leases.release(holding.lease);
  }

  /**
   * Moves the lock's entry to the owner's current lease for `request.ttlMs`: when an extend asks
   * for more than the lock's lease gives, or the lease is poisoned (so that it can be revoked).
   * A put keeps the entry's create revision, so its place and fence stay; it is guarded by that
   * revision, so a lock deleted meanwhile is not brought back, and sending it twice is harmless.
   */
  async #moveLease(request: ExtendRequest, holding: Holding): Promise<void> {
    const lease = await this.#leases.lease(identityOf(request.owner), request.ttlMs);
    const folder = holding.semaphore?.folder ?? this.layout.folder(request.key);
    const put = putEntry(holding.entry, request.owner, lease.id);
    if (holding.semaphore !== undefined && put.request_put !== undefined) {
      put.request_put.value = holding.semaphore.value;
    }
    let moved = false;
    try {
      const reply = await this.#batcher.run(
        {
          compare: [createdAt(holding.entry, holding.revision)],
          success: [put],
        },
        folder.toString('latin1'),
        'lease move',
        request.key,
      );
      moved = reply.succeeded;
    } finally {
      // The lock's use moves with it; the use taken for the move is given back.
      this.#leases.release(moved ? holding.lease : lease);
      if (moved) holding.lease = lease;
    }
  }

  /**
   * Sorts the renewals whose entry was not on the lease the tick renewed, with one read of each
   * lock's holder: our own entry still holding the lock is renewed on the lease it is on (a
   * concurrent extend moved it to a longer lease, or a move whose reply was lost did; or it was
   * taken through another backend); else `forbidden` (someone else holds it) or `not-found`
   * (nobody does), and the lock is forgotten.
   */
  async #judgeMissing(
    requests: readonly ExtendRequest[],
    missing: number[],
    results: OwnerCheckedResult[],
    started: number,
    permits: boolean,
  ): Promise<void> {
    await Promise.all(
      missing.map(async (index) => {
        const request = requests[index] as ExtendRequest;
        const known = this.#held.get(request.owner);
        const holding =
          known?.key === request.key && (known.semaphore !== undefined) === permits
            ? known
            : undefined;
        let own: string | undefined;
        let other = false;
        if (permits) {
          own = await this.#semaphores.holdingLease(request.key, request.owner);
        } else {
          const holder = await this.#holderOf(request.key);
          if (holder !== undefined && holder.value.toString() === request.owner) own = holder.lease;
          else other = holder !== undefined;
        }
        if (own !== undefined) {
          const renewed = await this.#renewOwn(own, holding, started + request.ttlMs);
          results[index] = renewed ? 'ok' : 'not-found';
          return;
        }
        if (holding !== undefined) this.#forget(request.owner);
        results[index] = other ? 'forbidden' : 'not-found';
      }),
    );
  }

  /**
   * Renews lease `leaseId`, which our own entry is on, until `until`; true if it lives. A lock this
   * backend holds follows its entry to that lease (its use moves with it).
   */
  async #renewOwn(leaseId: string, holding: Holding | undefined, until: number): Promise<boolean> {
    const lease = this.#leases.find(leaseId);
    if (lease === undefined) return (await this.#keepAliveOnce(leaseId)) > 0;
    if (holding !== undefined && holding.lease !== lease) {
      this.#leases.use(lease);
      this.#leases.release(holding.lease);
      holding.lease = lease;
    }
    try {
      await lease.ensureValidUntil(until);
      return true;
    } catch (error) {
      if (error instanceof LeaseGoneError) return false;
      throw toBackendError('lease keepalive', error);
    }
  }
}

/** Whether `kv` is `entry` holding `owner`: written by this very acquisition. */
function isEntryOf(kv: IKeyValue | undefined, entry: Buffer, owner: string): kv is IKeyValue {
  return kv?.key.equals(entry) === true && kv.value.toString() === owner;
}

/** etcd refused the call outright, so it wrote nothing (a gone lease, a forbidden key). */
function refusedOutright(error: unknown): boolean {
  return isLeaseGone(error) || isPermissionDenied(error);
}

/** etcd refused a request on a key the user may not write (auth with per-key roles). */
function isPermissionDenied(error: unknown): boolean {
  return isOrCausedBy(error, [EtcdPermissionDeniedError]);
}

/** etcd said the lease does not exist (expired or revoked). */
function isLeaseGone(error: unknown): boolean {
  return isOrCausedBy(error, [LeaseGoneError, EtcdLeaseInvalidError]);
}

/** Whether `error`, or the driver error it wraps as `cause`, is one of `kinds`. */
function isOrCausedBy(
  error: unknown,
  kinds: readonly (abstract new (...args: never[]) => Error)[],
) {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return kinds.some((kind) => error instanceof kind || cause instanceof kind);
}
