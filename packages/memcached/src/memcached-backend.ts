import {
  type AcquireRequest,
  type AcquireResult,
  BackendError,
  type BackendLockInfo,
  type ExtendRequest,
  InvalidArgumentError,
  type LockBackend,
  type OwnerCheckedResult,
  type ReleaseRequest,
  type VersionedRecord,
} from '@lock/core';
import { Client, Server } from 'memjs';
import { Calls } from './calls.js';
import { CasCache } from './cas-cache.js';
import {
  addItem,
  type BoundCas,
  boundCas,
  type CasSet,
  casDeleteItem,
  casSetItem,
  casSetMany,
  getItem,
  incrementCounter,
  MemcachedStatusError,
  NOT_SENT,
  type RawReply,
  STATUS,
  type Target,
} from './cas-requests.js';
import { Deadlines } from './deadline.js';
import { ConnectionFailure, toBackendError } from './errors.js';
import { deadlineFlags, expirySeconds, remainingFromFlags } from './expiry.js';
import { itemKeys } from './keys.js';
import { pingEachServer, retireClient, retrySettingsOf, trackSockets } from './memjs-internals.js';
import {
  checkBackendOptions,
  type MemcachedBackendOptions,
  memjsOptions,
  type ServerAddress,
} from './options.js';
import { encodeRequest } from './request-encoder.js';
import { type RetryPolicy, withRetries } from './retry.js';
import { readRecord, writeRecord } from './semaphore-records.js';
import { parseServer, parseUri } from './uri.js';

/**
 * How often extend/release read the item again: it changed between their read and their write,
 * or the connection their CAS came on went away before the write could leave.
 */
const MAX_CAS_ATTEMPTS = 4;

/** Binary-protocol VERSION: the cheapest request every memcached answers. */
const OP_VERSION = 0x0b;

/**
 * Locks in memcached through memjs. `acquire` is an ADD (create-if-absent) with the owner token
 * as the value; extend and release are CAS-guarded SET and DELETE, so only the holder can touch
 * its lock; each acquisition also increments a per-key fence counter. memcached has no
 * notifications, so waiters poll (core's backoff).
 * @example
 * ```ts
 * import { createLocker } from '@lock/core';
 * import { MemcachedBackend } from '@lock/memcached';
 *
 * const locker = createLocker(new MemcachedBackend({ servers: ['127.0.0.1:11211'] }), { ttl: 10_000 });
 * await locker.withLock('nightly-report', async (signal, lock) => {
 *   console.log('exclusive, fence', lock.fence);
 * });
 * await locker.close();
 * ```
 */
export class MemcachedBackend implements LockBackend {
  /** Short name for messages and benchmarks. */
  readonly name = 'memcached';
  /** The memjs client in use (yours when you passed `client`). */
  readonly client: Client;
  /** Prefix of every key this backend writes. */
  readonly keyPrefix: string;
  readonly #ownsClient: boolean;
  readonly #deadlines: Deadlines;
  readonly #target: Target;
  readonly #retry: RetryPolicy;
  readonly #cas = new CasCache();
  readonly #calls = new Calls();
  /** How long `connect()` waits for each server, in ms (memjs's connect timeout, or 2 s). */
  readonly #connectTimeoutMs: number;
  #closing: Promise<void> | undefined;

  /**
   * @throws {InvalidArgumentError} for an unknown option, one memjs cannot honour (named with
   * the reason), or a bad value.
   * @throws {InvalidConnectionStringError} for a bad `uri`.
   */
  constructor(options: MemcachedBackendOptions) {
    checkBackendOptions(options, 'options');
    let resolved = options;
    let servers: readonly ServerAddress[] = [];
    if (options.uri !== undefined) {
      const parsed = parseUri(options.uri);
      resolved = { ...parsed.options, ...withoutUndefined(options) };
      if (parsed.username !== undefined && options.username === undefined) {
        resolved = { ...resolved, username: parsed.username, password: parsed.password as string };
      }
      servers = parsed.servers;
    } else if (options.host !== undefined) {
      servers = [{ host: options.host, port: options.port ?? 11211 }];
    } else if (options.servers !== undefined) {
      const list =
        typeof options.servers === 'string' ? options.servers.split(',') : options.servers;
      servers = list.map((text) => {
        try {
          return parseServer(text);
        } catch {
          // Masked: a memjs-style "user:pass@host" entry would carry a password.
          throw new InvalidArgumentError(
            'options.servers',
            list.map((entry) => entry.replace(/^.*@/, '***@')),
            'must be "host[:port]" strings (SASL credentials go in username and password)',
          );
        }
      });
    }
    this.keyPrefix = resolved.keyPrefix ?? 'lock:';
    this.#connectTimeoutMs = resolved.connectTimeout ?? 2_000;
    this.#deadlines = new Deadlines(resolved.operationTimeout ?? 5_000);
    if (options.client !== undefined) {
      this.client = options.client;
      this.#ownsClient = false;
    } else {
      const settings = memjsOptions(resolved);
      const memjsServers = servers.map(
        ({ host, port }) => new Server(host, port, resolved.username, resolved.password, settings),
      );
      this.client = new Client(memjsServers, settings);
      trackSockets(this.client);
      this.#ownsClient = true;
    }
    this.#target = { client: this.client, deadlines: this.#deadlines };
    this.#retry = {
      ...retrySettingsOf(this.client),
      pause: (ms) => this.#calls.pause(ms),
    };
  }

  /**
   * Reaches every server now, with one VERSION request each (after memjs connects and, with
   * SASL, logs in), so a wrong address, a frozen server or a wrong password shows up here and
   * not at the first lock. `connect(uri)` calls it unless asked to be lazy.
   * @throws {BackendError} naming each server that did not answer within `connectTimeout`,
   * with its error as `cause`.
   */
  async connect(): Promise<this> {
    this.#calls.begin();
    try {
      const failed = await pingEachServer(
        this.client,
        (seq) => encodeRequest(OP_VERSION, '', Buffer.alloc(0), '', seq),
        this.#connectTimeoutMs,
      );
      if (failed.length > 0) {
        throw new BackendError(
          `could not reach memcached at ${failed.map((f) => f.address).join(', ')} within ${this.#connectTimeoutMs} ms`,
          {
            cause:
              failed.length === 1
                ? failed[0]?.error
                : new AggregateError(
                    failed.map((f) => f.error),
                    'memcached servers failed',
                  ),
          },
        );
      }
      return this;
    } finally {
      this.#calls.end();
    }
  }

  /**
   * Takes `key` with an ADD of the owner token, expiring after the TTL rounded up to whole
   * seconds plus one (see the README), and in the same write increments the fence counter.
   * An attempt whose connection fails is made again whole (safe: see `retry.ts`).
   */
  async acquire({ key, owner, ttlMs }: AcquireRequest): Promise<AcquireResult> {
    this.#calls.begin();
    try {
      const keys = itemKeys(this.keyPrefix, key);
      const expiry = expirySeconds(ttlMs);
      const flags = deadlineFlags(ttlMs);
      return await withRetries(this.#retry, () => this.#acquireOnce(keys, owner, flags, expiry));
    } catch (error) {
      throw toBackendError(error, 'acquire', key);
    } finally {
      this.#calls.end();
    }
  }

  async #acquireOnce(
    keys: { lock: string; fence: string },
    owner: string,
    flags: number,
    expiry: number,
  ): Promise<AcquireResult> {
    // The ADD and the INCREMENT go out back to back on the connection to the lock's server,
    // which applies them in order: a winner's fence is always counted after its ADD, so after
    // the previous holder's. A failed ADD burns a fence number; gaps are allowed.
    const target = this.#target;
    // Both leave in one write (the socket stays corked until the end of the tick).
    const added = addItem(target, keys.lock, owner, flags, expiry);
    const counted = incrementCounter(target, keys.lock, keys.fence, initialFence());
    // Only read when the ADD succeeds; never an unhandled rejection otherwise.
    counted.catch(() => {});
    let reply = await added;
    if (reply.status === STATUS.exists) {
      const held = await getItem(target, keys.lock);
      // Our own token: an earlier attempt's ADD landed and its reply was lost.
      if (held.status !== STATUS.ok || held.value.toString('utf8') !== owner) {
        return denial(held);
      }
      reply = held;
    } else if (reply.status !== STATUS.ok) {
      throw new MemcachedStatusError('add', reply.status);
    }
    const cas = boundCas(reply);
    if (reply.cas.every((byte) => byte === 0)) {
      // A server started with -C keeps no CAS, and a zero CAS guards nothing: refuse to lock.
      await casDeleteItem(target, keys.lock, cas).catch(() => {});
      throw new Error('the server keeps no CAS values (started with -C): locks need them');
    }
    let fence: number;
    try {
      fence = await counted;
    } catch (error) {
      // Taken without a fence: hand it back rather than grant a lock with no token. After a
      // connection failure that delete cannot leave (its CAS is tied to the dead connection);
      // the retry then finds our own token and counts a fence on the new connection.
      if (!(error instanceof ConnectionFailure)) {
        await casDeleteItem(target, keys.lock, cas).catch(() => {});
      }
      throw error;
    }
    this.#cas.set(keys.lock, owner, cas);
    return { acquired: true, fence };
  }

  /** Resets the TTL of `key` with a SET guarded by the CAS of `owner`'s item. */
  async extend({ key, owner, ttlMs }: ExtendRequest): Promise<OwnerCheckedResult> {
    this.#calls.begin();
    try {
      const lockKey = itemKeys(this.keyPrefix, key).lock;
      const expiry = expirySeconds(ttlMs);
      return await this.#ownerChecked(lockKey, owner, (cas) =>
        casSetItem(this.#target, lockKey, owner, deadlineFlags(ttlMs), expiry, cas),
      );
    } catch (error) {
      throw toBackendError(error, 'extend', key);
    } finally {
      this.#calls.end();
    }
  }

  /**
   * Extends each lock (a keepalive tick). The locks whose CAS this process remembers, on a
   * connection still open, are renewed by {@link casSetMany}: one CAS-guarded SET each, all in
   * one socket write, with one promise and one deadline for the batch. The others, and those
   * whose item changed since (CAS mismatch), take {@link extend}'s path: read, then write.
   * Rejects when any renewal's reply is lost: core then counts every lock of the batch as
   * unknown, not refused.
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    this.#calls.begin();
    try {
      const results = new Array<OwnerCheckedResult>(requests.length);
      const singles: Promise<void>[] = [];
      const single = (index: number) => {
        const request = requests[index] as ExtendRequest;
        singles.push(
          this.extend(request).then((result) => {
            results[index] = result;
          }),
        );
      };
      const batched: number[] = [];
      const sets: CasSet[] = [];
      for (const [index, { key, owner, ttlMs }] of requests.entries()) {
        const lockKey = itemKeys(this.keyPrefix, key).lock;
        const cas = this.#cas.get(lockKey, owner);
        if (cas === undefined) {
          single(index);
          continue;
        }
        const flags = deadlineFlags(ttlMs);
        batched.push(index);
        sets.push({ key: lockKey, value: owner, flags, expirySeconds: expirySeconds(ttlMs), cas });
      }
      let replies: (RawReply | typeof NOT_SENT)[];
      try {
        replies = await casSetMany(this.#target, sets);
      } catch (error) {
        // Their outcome is unknown: a CAS that may have changed is never used again.
        for (const [n, set] of sets.entries()) {
          this.#cas.delete(set.key, requests[batched[n] as number]?.owner as string);
        }
        for (const call of singles) call.catch(() => {});
        throw toBackendError(error, 'extend', requests[batched[0] as number]?.key);
      }
      for (const [n, reply] of replies.entries()) {
        const index = batched[n] as number;
        const { key, owner } = requests[index] as ExtendRequest;
        const lockKey = (sets[n] as CasSet).key;
        if (reply !== NOT_SENT && reply.status === STATUS.ok) {
          this.#cas.set(lockKey, owner, boundCas(reply));
          results[index] = 'ok';
        } else if (reply !== NOT_SENT && reply.status === STATUS.notFound) {
          results[index] = this.#forget(lockKey, owner, 'not-found');
        } else if (reply === NOT_SENT || reply.status === STATUS.exists) {
          // Changed since our last write, or its connection is gone: read it again.
          this.#cas.delete(lockKey, owner);
          single(index);
        } else {
          this.#cas.delete(lockKey, owner);
          const error = toBackendError(
            new MemcachedStatusError('cas', reply.status),
            'extend',
            key,
          );
          singles.push(Promise.reject(error));
        }
      }
      await Promise.all(singles);
      return results;
    } finally {
      this.#calls.end();
    }
  }

  /** Deletes `key` with a DELETE guarded by the CAS of `owner`'s item. */
  async release({ key, owner }: ReleaseRequest): Promise<OwnerCheckedResult> {
    this.#calls.begin();
    try {
      const lockKey = itemKeys(this.keyPrefix, key).lock;
      const result = await this.#ownerChecked(lockKey, owner, (cas) =>
        casDeleteItem(this.#target, lockKey, cas),
      );
      this.#cas.delete(lockKey, owner);
      return result;
    } catch (error) {
      throw toBackendError(error, 'release', key);
    } finally {
      this.#calls.end();
    }
  }

  /**
   * Runs a CAS-guarded `write` on `owner`'s item: first with the CAS this process remembers from
   * its own last write (one round trip), else with the CAS of a fresh read that shows `owner`
   * as the value. A CAS mismatch means the item changed since; it is read again, as it is when
   * the connection the CAS came on is gone before the write could leave on it. The write itself
   * is sent once: if its connection fails, its outcome is unknown and the call rejects.
   */
  async #ownerChecked(
    lockKey: string,
    owner: string,
    write: (cas: BoundCas) => Promise<RawReply | typeof NOT_SENT>,
  ): Promise<OwnerCheckedResult> {
    let cas = this.#cas.get(lockKey, owner);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (cas === undefined) {
        const read = await withRetries(this.#retry, () => getItem(this.#target, lockKey));
        if (read.status === STATUS.notFound) return this.#forget(lockKey, owner, 'not-found');
        if (read.status !== STATUS.ok) throw new MemcachedStatusError('get', read.status);
        if (read.value.toString('utf8') !== owner) {
          return this.#forget(lockKey, owner, 'forbidden');
        }
        cas = boundCas(read);
      }
      let reply: RawReply | typeof NOT_SENT;
      try {
        reply = await write(cas);
      } catch (error) {
        this.#cas.delete(lockKey, owner);
        throw error;
      }
      if (reply !== NOT_SENT && reply.status === STATUS.ok) {
        this.#cas.set(lockKey, owner, boundCas(reply));
        return 'ok';
      }
      if (reply !== NOT_SENT && reply.status === STATUS.notFound) {
        return this.#forget(lockKey, owner, 'not-found');
      }
      if (reply !== NOT_SENT && reply.status !== STATUS.exists) {
        throw new MemcachedStatusError('cas', reply.status);
      }
      cas = undefined;
      this.#cas.delete(lockKey, owner);
    }
    throw new Error(
      `the item kept changing, or its connection kept dropping, during ${MAX_CAS_ATTEMPTS} CAS attempts`,
    );
  }

  #forget(lockKey: string, owner: string, result: OwnerCheckedResult): OwnerCheckedResult {
    this.#cas.delete(lockKey, owner);
    return result;
  }

  /**
   * Who holds `key`. `remainingMs` is an estimate from the deadline the holder wrote by its own
   * wall clock (memcached cannot report an item's TTL over memjs's protocol); `fence` is not
   * stored with the lock, so it is `undefined`.
   */
  async inspect(key: string): Promise<BackendLockInfo | undefined> {
    this.#calls.begin();
    try {
      const lockKey = itemKeys(this.keyPrefix, key).lock;
      const reply = await withRetries(this.#retry, () => getItem(this.#target, lockKey));
      if (reply.status === STATUS.notFound) return undefined;
      if (reply.status !== STATUS.ok) throw new MemcachedStatusError('get', reply.status);
      return {
        owner: reply.value.toString('utf8'),
        remainingMs: remainingFromFlags(flagsOf(reply)),
        fence: undefined,
      };
    } catch (error) {
      throw toBackendError(error, 'inspect', key);
    } finally {
      this.#calls.end();
    }
  }

  /**
   * The semaphore or read-write lock record of `key` (core's fallback builds semaphores on it),
   * with its CAS as the version: one GET. Stored at `itemKeys(prefix, key).semaphore`.
   */
  async readRecord(key: string): Promise<VersionedRecord | undefined> {
    this.#calls.begin();
    try {
      return await readRecord(this.#target, this.#retry, itemKeys(this.keyPrefix, key).semaphore);
    } catch (error) {
      throw toBackendError(error, 'semaphore record read', key);
    } finally {
      this.#calls.end();
    }
  }

  /**
   * Writes the semaphore record of `key` if it is still at `expectedVersion`: an ADD when there
   * was none, else a SET guarded by the CAS of the read, sent once and only on the connection
   * that CAS came on (`'conflict'` without sending when that connection is gone). Never expires.
   */
  async writeRecord(
    key: string,
    value: string,
    expectedVersion: string | undefined,
  ): Promise<'ok' | 'conflict'> {
    this.#calls.begin();
    try {
      const recordKey = itemKeys(this.keyPrefix, key).semaphore;
      return await writeRecord(this.#target, this.#retry, recordKey, value, expectedVersion);
    } catch (error) {
      throw toBackendError(error, 'semaphore record write', key);
    } finally {
      this.#calls.end();
    }
  }

  /**
   * Stops this backend: new calls reject with `LockClosedError`; calls under way finish and
   * report their real result (a release already sent is not called "closed"), except that
   * retries they have not sent yet are cancelled (`LockClosedError`); then the connections are
   * closed, unless the client was passed in (you close yours). Resolves once all that is done;
   * every request is bounded by `timeout` and `operationTimeout`, so this never hangs.
   */
  close(): Promise<void> {
    this.#closing ??= this.#calls.close().then(() => {
      this.#cas.clear();
      if (this.#ownsClient) retireClient(this.client);
    });
    return this.#closing;
  }
}

/** The last value {@link initialFence} returned in this process. */
let lastInitialFence = 0n;

/**
 * The value a missing fence counter starts at: the wall clock in microseconds (it was in
 * milliseconds times 1,000 once, and a counter lost and recreated within one millisecond came
 * back at the same value: the test "a lost fence counter restarts above" caught it). A counter lost
 * to a restart or an eviction then restarts above every fence it handed out, as long as it was
 * incremented less than once per microsecond on average and the clocks are roughly right.
 */
function initialFence(): bigint {
  // performance.now() is monotonic, so within a process this never steps back with the wall
  // clock; the guard makes it strictly grow even between two calls in one microsecond.
  const micros = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
  lastInitialFence = micros > lastInitialFence ? micros : lastInitialFence + 1n;
  return lastInitialFence;
}

/** What a failed acquire reports, from a GET of the lock item. */
function denial(read: RawReply): AcquireResult {
  if (read.status === STATUS.notFound) return { acquired: false };
  if (read.status !== STATUS.ok) throw new MemcachedStatusError('get', read.status);
  return {
    acquired: false,
    holder: read.value.toString('utf8'),
    remainingMs: remainingFromFlags(flagsOf(read)),
  };
}

function flagsOf(reply: RawReply): number {
  return reply.extras.length >= 4 ? reply.extras.readUInt32BE(0) : 0;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
