import {
  type AcquireRequest,
  type AcquireResult,
  BackendError,
  type BackendLockInfo,
  checkOptions,
  checkPositive,
  type ExtendRequest,
  InvalidArgumentError,
  type LockBackend,
  type OwnerCheckedResult,
  quoteKey,
  type ReleaseRequest,
  type Unsubscribe,
} from '@lock/core';
import type { RedisClientOptions } from 'redis';
import type { RedisClientLike } from './client-types.js';
import { RedisBackend } from './redis-backend.js';

/** Options of {@link RedlockBackend}. */
export interface RedlockOptions {
  /**
   * The independent Redis servers (not replicas of each other, not one Cluster), an odd number
   * such as 3 or 5: URLs or node-redis `createClient` options, whose clients the backend
   * creates and owns, or standalone clients you own.
   */
  readonly nodes: readonly (string | RedisClientOptions | RedisClientLike)[];
  /**
   * Prefix of every key and channel on every node.
   * @default "lock:"
   */
  readonly prefix?: string;
  /**
   * Connect timeout per node, in milliseconds.
   * @default 2000
   */
  readonly connectTimeout?: number;
  /**
   * Reply timeout per node, in milliseconds. Keep it well below the lock TTL: a slow node
   * should be skipped, not waited for.
   * @default 500
   */
  readonly commandTimeout?: number;
  /**
   * Fraction of the TTL assumed lost to clock drift between the nodes, plus 2 ms. A grant is
   * kept only if `ttl − elapsed − drift` is still positive once a quorum has answered.
   * @default 0.01
   */
  readonly driftFactor?: number;
  /**
   * Check each node's `maxmemory-policy` on connect and warn once if it may evict lock keys.
   * @default true
   */
  readonly checkEvictionPolicy?: boolean;
  /** Where warnings go (eviction policy of a node…). @default `console.warn` */
  readonly onWarning?: (message: string) => void;
}

/** The options of {@link RedlockOptions} other than `nodes`. */
export const REDLOCK_TUNING_OPTION_NAMES = [
  'prefix',
  'connectTimeout',
  'commandTimeout',
  'driftFactor',
  'checkEvictionPolicy',
  'onWarning',
] as const;

const OPTION_NAMES = ['nodes', ...REDLOCK_TUNING_OPTION_NAMES] as const;

/**
 * The Redlock algorithm over N independent Redis servers: a lock is held when a majority
 * (quorum) granted it within its validity, `ttl − elapsed − drift`. Acquisitions that miss the
 * quorum are cleaned up on every node; release goes to every node.
 *
 * Guarantees and failure modes, under Redlock's assumptions (drift below `driftFactor`, pauses
 * shorter than the validity, no node losing its data), with requests and replies lost or
 * delayed at will:
 * - exclusion: two valid grants would need a common node holding both;
 * - fences strictly grow in grant order: an acquire started after a grant gets a larger fence
 *   (with no clock assumption), and so does any later grant while it is valid. Each node keeps
 *   a counter; a grant needs a quorum of its granting nodes to confirm, while raising their
 *   counters to its fence, that they still hold the lock (proof on {@link RedlockBackend.acquire});
 * - a node restarted without persistence comes back with no locks and counter 0: exclusion
 *   fails if it tips a majority within one TTL (keep it out that long, or use
 *   `appendfsync always`), and fences can go backwards for good (only persistence prevents
 *   that);
 * - a holder paused past its validity keeps working after the lock has gone (its `signal`
 *   aborts when it wakes).
 *
 * Redlock is for efficiency locks unless its nodes persist every write; for correctness under
 * failures use fences from a single Redis with persistence, or a consensus store.
 * @example
 * ```ts
 * const backend = new RedlockBackend({ nodes: ['redis://a:6379', 'redis://b:6379', 'redis://c:6379'] });
 * const locker = createLocker(backend, { ttl: 10_000 });
 * ```
 */
export class RedlockBackend implements LockBackend {
  /** Short name for messages and benchmarks. */
  readonly name = 'redlock';
  /**
   * Why `locker.semaphore()` and `locker.readWriteLock()` throw on Redlock: semaphores are out of
   * scope on a quorum (see the README's "Semaphores and read-write locks").
   */
  readonly semaphoresUnsupported =
    'Redlock keeps no semaphores: independent servers see waiters in different orders, so no majority agrees who is next in line or that a waiting writer blocks new readers, and each keeps its own fence counter; use RedisBackend (one server or a Cluster) for semaphores and read-write locks';
  /** Nodes that must agree: a majority of {@link RedlockBackend.size}. */
  readonly quorum: number;
  readonly #nodes: readonly RedisBackend[];
  readonly #driftFactor: number;

  /** Checks `options` at once; connects each node on first use. */
  constructor(options: RedlockOptions) {
    checkOptions(options, 'options', OPTION_NAMES);
    const nodes = options.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length % 2 === 0) {
      throw new InvalidArgumentError(
        'options.nodes',
        nodes,
        'must be a non-empty array of an odd number of Redis URLs, client options or clients',
      );
    }
    const driftFactor = options.driftFactor ?? 0.01;
    if (typeof driftFactor !== 'number' || !(driftFactor >= 0 && driftFactor < 0.5)) {
      throw new InvalidArgumentError('options.driftFactor', driftFactor, 'must be in [0, 0.5)');
    }
    const commandTimeout = options.commandTimeout ?? 500;
    checkPositive(commandTimeout, 'options.commandTimeout');
    this.#driftFactor = driftFactor;
    this.quorum = Math.floor(nodes.length / 2) + 1;
    this.#nodes = nodes.map(
      (node) =>
        new RedisBackend(
          {
            ...sourceOf(node),
            commandTimeout,
            ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
            ...(options.connectTimeout === undefined
              ? {}
              : { connectTimeout: options.connectTimeout }),
            ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
            ...(options.checkEvictionPolicy === undefined
              ? {}
              : { checkEvictionPolicy: options.checkEvictionPolicy }),
          },
          { redlockNode: true },
        ),
    );
  }

  /** Number of nodes. */
  get size(): number {
    return this.#nodes.length;
  }

  /**
   * Connects to every node now (otherwise the first call does).
   * @throws {BackendError} when fewer than a quorum of nodes can be reached.
   */
  async connect(): Promise<this> {
    const replies = await Promise.allSettled(this.#nodes.map((node) => node.connect()));
    if (fulfilled(replies).length < this.quorum) throw this.#noQuorum('connect', '*', replies);
    return this;
  }

  /**
   * Two rounds, each to every node at once:
   *
   * 1. `SET NX PX` + `INCR` of the node's fence counter, in one script.
   * 2. After a quorum granted: the fence `f` is the largest counter those nodes returned; raise
   *    every node's counter to at least `f` and ask, in the same script, whether the node still
   *    holds the lock for this owner.
   *
   * Granted when a quorum of the nodes that granted in round 1 confirmed in round 2 that they
   * still hold it, and the lock is still valid: a node holds it until at least `sentAt + ttl`
   * (its SET was sent at `sentAt`), so the quorum holds it until the quorum-th latest such
   * time, minus drift. Otherwise every node is cleaned up and the call fails.
   *
   * Why fences grow (the proof). Assume no node loses its data (a counter never goes down), no
   * request is applied twice (node-redis never resends a request it has written), and no
   * request of an earlier attempt with the same owner token (core's `lock()` keeps one token
   * across its attempts) reaches a node after this attempt's (a connection keeps the order;
   * `RedisConnection` names the one way round it). For a granted acquisition G, let K(G) be the
   * nodes whose round-1 grant it heard, with f(G) the largest of their counters, and
   * H(G) ⊆ K(G) the nodes that confirmed in round 2; |H(G)| is a quorum. On a node n ∈ H(G),
   * G's token stood in the lock key without a break from the moment its SET ran, s(n), to the
   * moment its raise ran, r(n): nothing else writes that token there in between, and once gone
   * it does not come back.
   *
   * Take two granted acquisitions G1 and G2. Their H sets are quorums, so they share a node p.
   * On p, the lock key held G1's token through [s1(p), r1(p)] and G2's through [s2(p), r2(p)];
   * one key holds one value at a time, so one interval ends before the other starts. Say
   * r1(p) < s2(p). After r1(p) p's counter is ≥ f(G1) and never goes down, so G2's INCR on p at
   * s2(p) returns more than f(G1), and since p ∈ K(G2), f(G2) > f(G1). The other way round,
   * f(G1) > f(G2). So fences are distinct and follow the order in which the two held p, and:
   *
   * - G2 started after G1 was granted: s2(p) > grant of G1 > r1(p), so f(G2) > f(G1), with no
   *   assumption about clocks.
   * - G2 was granted after G1 and is valid then: G2 holds a quorum V ⊆ K(G2) of nodes up to its
   *   validity end, after G1's grant (Redlock's own assumption: bounded drift and pauses, as
   *   for mutual exclusion). V meets H(G1) at some q; G1 held q at r1(q), before G1's grant, and
   *   G2 holds q from s2(q) through a time after it, so s2(q) > r1(q) and f(G2) > f(G1).
   *
   * What round 2 adds over the old "raise on any quorum": the raise counts only where the
   * node still holds the lock, so it is ordered against every other grant's SET on that node.
   * Without that check, G1's raise could be counted on a node that G2 had already set (and
   * read its counter on), and be lost on the node G2 set later: G2 was then granted after G1
   * with a smaller fence (issue #8 item 4, test "redlock-fences"). A read round before the
   * raise (a register protocol) is not needed: each holder's INCR is the read, and the node's
   * lock orders it against every other holder's raise; so fences cost no extra round trip.
   *
   * What is not covered: a node that restarts without persistence (or evicts the counter)
   * comes back with counter 0 and no lock, and then both exclusion and fences can fail.
   */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const sentAt: number[] = this.#nodes.map(() => Number.POSITIVE_INFINITY);
    const replies = await Promise.allSettled(
      this.#nodes.map(async (node, i) => {
        await node.connect();
        sentAt[i] = performance.now();
        return node.acquire(request);
      }),
    );
    const granting = replies.flatMap((reply, i) =>
      reply.status === 'fulfilled' && reply.value.acquired
        ? [{ node: i, fence: reply.value.fence, sentAt: sentAt[i] as number }]
        : [],
    );
    if (granting.length >= this.quorum) {
      const fence = Math.max(...granting.map((grant) => grant.fence));
      const raised = await Promise.allSettled(
        this.#nodes.map((node) => node.raiseFence(request.key, request.owner, fence)),
      );
      const confirmed = granting.filter((grant) => {
        const reply = raised[grant.node];
        return reply?.status === 'fulfilled' && reply.value;
      }).length;
      // Sorted latest first: the quorum-th is when the last node needed for a quorum got it.
      const grantedAt = granting.map((grant) => grant.sentAt).sort((a, b) => b - a);
      const validUntil =
        (grantedAt[this.quorum - 1] as number) +
        request.ttlMs -
        (request.ttlMs * this.#driftFactor + 2);
      const validity = validUntil - performance.now();
      if (confirmed >= this.quorum && validity > 0) {
        return { acquired: true, fence };
      }
      await this.#cleanUp(request);
      if (validity <= 0) {
        throw new BackendError(
          `redlock: acquiring lock ${quoteKey(request.key)} took longer than its TTL allows`,
          { key: request.key, cause: new Error('validity ran out during acquisition') },
        );
      }
      const errors = raised.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      throw new BackendError(
        `redlock acquire of lock ${quoteKey(request.key)}: only ${confirmed} of the ${granting.length} redis nodes that granted it still held it when its fence was raised, a quorum of ${this.quorum} is needed`,
        {
          key: request.key,
          cause: new AggregateError(
            errors.map((r) => r.reason as unknown),
            `${errors.length} redis nodes failed`,
          ),
        },
      );
    }
    if (granting.length > 0 || replies.some((r) => r.status === 'rejected')) {
      await this.#cleanUp(request);
    }
    const answered = fulfilled(replies);
    if (answered.length < this.quorum) throw this.#noQuorum('acquire', request.key, replies);
    const denied = answered.filter((r): r is AcquireResult & { acquired: false } => !r.acquired);
    const holders = denied.map((r) => r.holder).filter((h): h is string => h !== undefined);
    const remaining = denied
      .map((r) => r.remainingMs)
      .filter((ms): ms is number => ms !== undefined);
    return {
      acquired: false,
      holder: mostCommon(holders),
      remainingMs: remaining.length > 0 ? Math.min(...remaining) : undefined,
    };
  }

  /** Extends on every node; `ok` when a quorum extended it. */
  async extend(request: ExtendRequest): Promise<OwnerCheckedResult> {
    const replies = await Promise.allSettled(this.#nodes.map((node) => node.extend(request)));
    return this.#decide(replies, 'extend', request.key, this.quorum);
  }

  /** Renews many locks: one batched call per node, all nodes in parallel. */
  async extendMany(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    const perNode = await Promise.allSettled(this.#nodes.map((node) => node.extendMany(requests)));
    return requests.map((request, index) =>
      this.#decide(
        perNode.map((reply) =>
          reply.status === 'fulfilled'
            ? { status: 'fulfilled' as const, value: reply.value[index] as OwnerCheckedResult }
            : reply,
        ),
        'extend',
        request.key,
        this.quorum,
      ),
    );
  }

  /** Releases on every node; `ok` if it was ours on any of them. */
  async release(request: ReleaseRequest): Promise<OwnerCheckedResult> {
    const replies = await Promise.allSettled(this.#nodes.map((node) => node.release(request)));
    return this.#decide(replies, 'release', request.key, 1);
  }

  /** The owner that holds `key` on a quorum of nodes, with the smallest remaining TTL among them. */
  async inspect(key: string): Promise<BackendLockInfo | undefined> {
    const replies = await Promise.allSettled(this.#nodes.map((node) => node.inspect(key)));
    const answered = fulfilled(replies);
    if (answered.length < this.quorum) throw this.#noQuorum('inspect', key, replies);
    const infos = answered.filter((info): info is BackendLockInfo => info !== undefined);
    const owner = mostCommon(infos.map((info) => info.owner));
    const holding = infos.filter((info) => info.owner === owner);
    if (owner === undefined || holding.length < this.quorum) return undefined;
    const remaining = holding
      .map((info) => info.remainingMs)
      .filter((ms): ms is number => ms !== undefined);
    const fences = holding.map((info) => info.fence).filter((f): f is number => f !== undefined);
    return {
      owner,
      remainingMs: remaining.length > 0 ? Math.min(...remaining) : undefined,
      fence: fences.length > 0 ? Math.max(...fences) : undefined,
    };
  }

  /** Wakes `onChange` on a release announced by any node. */
  async watch(key: string, onChange: () => void): Promise<Unsubscribe> {
    const subscriptions = await Promise.allSettled(
      this.#nodes.map((node) => node.watch(key, onChange)),
    );
    const active = fulfilled(subscriptions);
    if (active.length === 0) throw this.#noQuorum('watch', key, subscriptions);
    return async () => {
      await Promise.allSettled(active.map((unsubscribe) => unsubscribe()));
    };
  }

  /** Closes every node's connections (never clients you passed in). */
  async close(): Promise<void> {
    await Promise.all(this.#nodes.map((node) => node.close()));
  }

  async #cleanUp(request: AcquireRequest): Promise<void> {
    // Every node, including those whose reply was lost: their SET may have landed.
    await Promise.allSettled(this.#nodes.map((node) => node.release(request)));
  }

  #decide(
    replies: PromiseSettledResult<OwnerCheckedResult>[],
    operation: string,
    key: string,
    okNeeded: number,
  ): OwnerCheckedResult {
    const answered = fulfilled(replies);
    const ok = answered.filter((r) => r === 'ok').length;
    if (ok >= okNeeded) return 'ok';
    if (answered.length < this.quorum) throw this.#noQuorum(operation, key, replies);
    const forbidden = answered.filter((r) => r === 'forbidden').length;
    const notFound = answered.filter((r) => r === 'not-found').length;
    return forbidden > notFound ? 'forbidden' : 'not-found';
  }

  #noQuorum(
    operation: string,
    key: string,
    replies: PromiseSettledResult<unknown>[],
  ): BackendError {
    const errors = replies
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as unknown);
    const answered = replies.length - errors.length;
    return new BackendError(
      `redlock ${operation} of lock ${quoteKey(key)}: only ${answered} of ${this.#nodes.length} redis nodes answered, a quorum of ${this.quorum} is needed`,
      { key, cause: new AggregateError(errors, `${errors.length} redis nodes failed`) },
    );
  }
}

/** A node as {@link RedisBackend} options: a URL, client options, or a client you own. */
function sourceOf(
  node: string | RedisClientOptions | RedisClientLike,
): { url: string } | { clientOptions: RedisClientOptions } | { client: RedisClientLike } {
  if (typeof node === 'string') return { url: node };
  if (typeof (node as Partial<RedisClientLike>).sendCommand === 'function') {
    return { client: node as RedisClientLike };
  }
  return { clientOptions: node as RedisClientOptions };
}

function fulfilled<T>(replies: PromiseSettledResult<T>[]): T[] {
  return replies
    .filter((r): r is PromiseFulfilledResult<T> => r.status === 'fulfilled')
    .map((r) => r.value);
}

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  let best: string | undefined;
  let bestCount = 0;
  for (const value of values) {
    const count = (counts.get(value) ?? 0) + 1;
    counts.set(value, count);
    if (count > bestCount) {
      best = value;
      bestCount = count;
    }
  }
  return best;
}
