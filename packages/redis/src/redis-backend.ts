import type {
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  BackendSemaphoreInfo,
  ExtendRequest,
  LockBackend,
  OwnerCheckedResult,
  QueuedAcquireOptions,
  QueuedGrant,
  ReleaseRequest,
  SemaphoreAcquireRequest,
  SemaphoreAcquireResult,
  SemaphoreOwnerResult,
  Unsubscribe,
} from '@lock/core';
import { addressOf } from './address.js';
import { ownedClientFactory, ownedClusterFactory } from './client-factory.js';
import { type ClientSource, RedisConnection } from './connection.js';
import { checkEvictionPolicy } from './eviction-policy.js';
import { waitInQueue } from './fair-queue.js';
import { lockKeys, lockTag } from './keys.js';
import { type RedisBackendOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { RedisSemaphores } from './redis-semaphores.js';
import { toAcquireResult, toLockInfo, toOwnerChecked } from './replies.js';
import { ScriptBatcher } from './script-batcher.js';
import {
  ACQUIRE,
  ACQUIRE_FAIR,
  type BatchableScript,
  EXTEND,
  EXTEND_MANY,
  INSPECT,
  INSPECT_FAIR,
  RAISE_FENCE,
  RELEASE,
  RELEASE_FAIR,
} from './scripts.js';
import { isRefusedSubscription, SharedSubscriber } from './subscriber.js';
import { WatcherGroups } from './watchers.js';

/** Locks renewed by one script call in `extendMany` (bounded so one call stays short). */
const EXTEND_BATCH = 500;

/**
 * Locks in Redis (standalone or Cluster) through node-redis. Every operation is one Lua script
 * and one round trip; fences come from a counter next to each lock; waiters wake over one
 * shared pub/sub connection; fair mode (the default) hands a released lock to the waiters in
 * the order they came.
 * @example
 * ```ts
 * import { createLocker } from '@lock/core';
 * import { RedisBackend } from '@lock/redis';
 *
 * const locker = createLocker(new RedisBackend({ url: 'redis://127.0.0.1:6379' }), { ttl: 10_000 });
 * await locker.withLock('invoice:42', async (signal, lock) => {
 *   await chargeCustomer({ signal, fence: lock.fence });
 * });
 * await locker.close();
 * ```
 */
export class RedisBackend implements LockBackend {
  /** Short name for messages and benchmarks. */
  readonly name: string;
  readonly #options: ResolvedOptions;
  readonly #connection: RedisConnection;
  readonly #subscriber: SharedSubscriber;
  readonly #warned = new Set<string>();
  readonly #watchers = new WatcherGroups();
  readonly #subscriptions = new Map<string, Promise<() => void>>();
  readonly #batcher: ScriptBatcher;
  readonly #semaphores: RedisSemaphores;
  #closing: Promise<void> | undefined;

  /**
   * Waits in the key's fair FIFO queue until the lock is granted (present when `fair` is on;
   * core's `lock()` then uses it instead of its own retry loop).
   */
  readonly acquireQueued?: (
    request: AcquireRequest,
    options: QueuedAcquireOptions,
  ) => Promise<QueuedGrant>;

  /**
   * Checks `options` at once; connects on first use (see {@link RedisBackend.connect}).
   * @param internal for {@link RedlockBackend} only: `redlockNode` makes this backend one node
   * of a quorum (no queue; every release announced, for the quorum's watchers).
   */
  constructor(options: RedisBackendOptions, internal?: { readonly redlockNode?: boolean }) {
    this.#options = resolveOptions(options, internal?.redlockNode === true);
    this.name = this.#options.fair ? 'redis' : 'redis (redlock node)';
    this.#connection = new RedisConnection(
      addressOf(options),
      sourceOf(options, this.#options.connectTimeout),
      this.#options.connectTimeout,
      this.#options.commandTimeout,
      () => this.#onFirstConnect(),
    );
    this.#subscriber = new SharedSubscriber(this.#connection);
    this.#batcher = new ScriptBatcher(
      (script, tag, args, what, key) => this.#lone(script, tag, args, what, key),
      (many, argv, what) => this.#connection.eval(many, [], argv, what),
    );
    this.#semaphores = new RedisSemaphores(
      (script, keys, argv, what, key) => this.#connection.eval(script, keys, argv, what, key),
      this.#options.prefix,
      () => this.#connection.isCluster,
    );
    if (this.#options.fair) {
      this.acquireQueued = (request, queued) =>
        waitInQueue(
          {
            connection: this.#connection,
            prefix: this.#options.prefix,
            pollIntervalMs: this.#options.queuePollInterval,
            entryTtlMs: this.#options.queueEntryTtl,
            subscribe: (channel, onMessage) => this.#subscribe(channel, onMessage),
          },
          request,
          queued,
        );
    }
  }

  /**
   * Connects now (otherwise the first call does), so a wrong address or password shows up here.
   * @throws {BackendError} when Redis cannot be reached within `connectTimeout`.
   */
  async connect(): Promise<this> {
    await this.#connection.client();
    // One round trip: a server that accepts connections but does not answer (frozen, a proxy in
    // front of a dead one) fails here, within the command timeout, not at the first lock.
    await this.#connection.send(undefined, ['PING'], `PING to ${this.#connection.address}`);
    return this;
  }

  /**
   * One attempt: takes the lock if it is free (and nobody is queued) and hands out the next
   * fence; otherwise reports the holder and its remaining TTL. One script, one round trip; while
   * nobody waits it runs two commands in Redis and never touches the queue (see `ACQUIRE_FAIR`).
   */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const tag = lockTag(this.#options.prefix, request.key);
    const args = [request.owner, String(Math.ceil(request.ttlMs))];
    const script = this.#options.fair ? ACQUIRE_FAIR : ACQUIRE;
    return toAcquireResult(await this.#script(script, tag, args, 'acquire', request.key));
  }

  /** Resets the TTL if `owner` still holds the lock. One script, one round trip. */
  async extend(request: ExtendRequest): Promise<OwnerCheckedResult> {
    const keys = lockKeys(this.#options.prefix, request.key);
    const reply = await this.#connection.eval(
      EXTEND,
      [keys.lock],
      [request.owner, String(Math.ceil(request.ttlMs))],
      'extend',
      request.key,
    );
    return toOwnerChecked(reply);
  }

  /**
   * Renews many locks in one round trip: one script call per batch of keys on a standalone
   * server; on a Cluster one call per lock, all sent at once (node-redis pipelines them per node).
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    if (this.#connection.isCluster) return Promise.all(requests.map((r) => this.extend(r)));
    const batches: ExtendRequest[][] = [];
    for (let i = 0; i < requests.length; i += EXTEND_BATCH) {
      batches.push(requests.slice(i, i + EXTEND_BATCH));
    }
    const replies = await Promise.all(
      batches.map((batch) =>
        this.#connection.eval(
          EXTEND_MANY,
          batch.map((r) => lockKeys(this.#options.prefix, r.key).lock),
          batch.flatMap((r) => [r.owner, String(Math.ceil(r.ttlMs))]),
          'extend',
        ),
      ),
    );
    return replies.flatMap((reply) => (reply as unknown[]).map(toOwnerChecked));
  }

  /**
   * Deletes the lock if `owner` holds it. If waiters are queued, hands it to the first in line
   * and announces that on the key's channel; if nobody waits, announces nothing. One script, one
   * round trip.
   */
  async release(request: ReleaseRequest): Promise<OwnerCheckedResult> {
    const tag = lockTag(this.#options.prefix, request.key);
    const script = this.#options.fair ? RELEASE_FAIR : RELEASE;
    return toOwnerChecked(await this.#script(script, tag, [request.owner], 'release', request.key));
  }

  /** Owner, remaining TTL and fence of `key`, read atomically; `undefined` when free. */
  async inspect(key: string): Promise<BackendLockInfo | undefined> {
    const keys = lockKeys(this.#options.prefix, key);
    const script = this.#options.fair ? INSPECT_FAIR : INSPECT;
    const reply = await this.#connection.eval(script, [keys.lock, keys.fence], [], 'inspect', key);
    return toLockInfo(reply);
  }

  /**
   * One attempt at `count` permits of the semaphore or read-write lock at `key`, by core's rules
   * (`decideSemaphore`) ported to one Lua script: one round trip, expiry judged by the server's
   * `TIME`. Denied with `wait`, the owner joins (or keeps its place in) the key's line.
   */
  async semaphoreAcquire(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult> {
    return (await this.#semaphores.acquire(request)).result;
  }

  /** Resets the expiry of `owner`'s permits at `key` if it still holds them. One round trip. */
  async semaphoreExtend(request: ExtendRequest): Promise<SemaphoreOwnerResult> {
    return (await this.#semaphores.extend(request)).result;
  }

  /**
   * Renews many permit holdings: one script call per 100 on a standalone server, one call per
   * holding (sent at once) on a Cluster.
   */
  semaphoreExtendMany(requests: readonly ExtendRequest[]): Promise<SemaphoreOwnerResult[]> {
    return this.#semaphores.extendMany(requests);
  }

  /**
   * Gives back `owner`'s permits at `key` and its place in line, and wakes the key's watchers if
   * anyone is in line. One round trip.
   */
  async semaphoreRelease(request: ReleaseRequest): Promise<SemaphoreOwnerResult> {
    return (await this.#semaphores.release(request)).result;
  }

  /** The live holders and the number waiting at `key`, read atomically; `undefined` when idle. */
  async semaphoreInspect(key: string): Promise<BackendSemaphoreInfo | undefined> {
    return (await this.#semaphores.inspect(key)).result;
  }

  /**
   * Calls `onChange` when `key` is released, over the backend's one shared subscriber
   * connection. Each release wakes one of this backend's watchers of `key` (in turn), not all,
   * so waiters do not stampede (see `WatcherGroups`). If the server refuses the subscription (an ACL without channel rights), warns
   * once and lets core fall back to its safety poll.
   */
  async watch(key: string, onChange: () => void): Promise<Unsubscribe> {
    const { channel } = lockKeys(this.#options.prefix, key);
    const watcher = () => onChange();
    let unsubscribe: (() => void) | undefined;
    if (this.#watchers.add(channel, watcher)) {
      // "s": a semaphore freed permits or its line moved; wake all (the server alone knows who
      // is first in line). Anything else: a mutex release, which one waiter can use.
      const subscribed = this.#subscribe(channel, (message) =>
        message === 's' ? this.#watchers.wakeAll(channel) : this.#watchers.wakeOne(channel),
      );
      this.#subscriptions.set(channel, subscribed);
    }
    try {
      unsubscribe = await this.#subscriptions.get(channel);
    } catch (error) {
      if (this.#watchers.delete(channel, watcher)) this.#subscriptions.delete(channel);
      throw error;
    }
    return () => {
      if (!this.#watchers.delete(channel, watcher)) return;
      this.#subscriptions.delete(channel);
      unsubscribe?.();
    };
  }

  /**
   * Raises the fence counter of `key` to at least `fence`, and tells whether `owner` still
   * holds the lock here. Used by {@link RedlockBackend}'s second round after a quorum grant;
   * harmless otherwise (a counter only grows).
   */
  async raiseFence(key: string, owner: string, fence: number): Promise<boolean> {
    const keys = lockKeys(this.#options.prefix, key);
    const reply = await this.#connection.eval(
      RAISE_FENCE,
      [keys.lock, keys.fence],
      [owner, String(fence)],
      'raise fence',
      key,
    );
    return reply === 1;
  }

  /** Closes the connections this backend opened; never a client or cluster you passed in. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#subscriber.close();
      await this.#connection.close();
    })();
    return this.#closing;
  }

  /**
   * Runs a batchable script for one lock: merged with this tick's other calls of it on a
   * standalone server; alone on a Cluster, where the locks of one batch may sit on different
   * slots.
   */
  #script(
    script: BatchableScript,
    tag: string,
    args: readonly string[],
    what: string,
    key: string,
  ): Promise<unknown> {
    if (this.#connection.isCluster) return this.#lone(script, tag, args, what, key);
    return this.#batcher.call(script, tag, args, what, key);
  }

  /** One lock's call on its own: the script's single form, its keys declared. */
  #lone(
    script: BatchableScript,
    tag: string,
    args: readonly string[],
    what: string,
    key: string,
  ): Promise<unknown> {
    const { keys, argv } = script.singleCall(tag, args);
    return this.#connection.eval(script.single, keys, argv, what, key);
  }

  async #subscribe(channel: string, onMessage: (message: string) => void): Promise<() => void> {
    try {
      return await this.#subscriber.add(channel, onMessage);
    } catch (error) {
      if (!isRefusedSubscription(error)) throw error;
      this.#warnOnce(
        'subscribe',
        'Redis refused a pub/sub subscription (does the ACL user lack channel rights, "&*"?); waiters fall back to polling',
      );
      return () => {};
    }
  }

  #warnOnce(id: string, message: string): void {
    if (this.#warned.has(id)) return;
    this.#warned.add(id);
    this.#options.onWarning(message);
  }

  #onFirstConnect(): void {
    if (!this.#options.checkEvictionPolicy) return;
    void checkEvictionPolicy(
      () => this.#connection.send(undefined, ['CONFIG', 'GET', 'maxmemory-policy'], 'CONFIG GET'),
      (message) => this.#warnOnce('eviction', message),
    );
  }
}

function sourceOf(options: RedisBackendOptions, connectTimeout: number): ClientSource {
  if (options.client !== undefined) return { kind: 'client', client: options.client };
  if (options.cluster !== undefined) return { kind: 'cluster', cluster: options.cluster };
  if (options.clusterOptions !== undefined) {
    return {
      kind: 'owned-cluster',
      create: ownedClusterFactory(options.clusterOptions, connectTimeout),
    };
  }
  const clientOptions = {
    ...options.clientOptions,
    ...(options.url === undefined ? {} : { url: options.url }),
  };
  return { kind: 'owned', create: ownedClientFactory(clientOptions, connectTimeout) };
}
