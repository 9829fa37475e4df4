import { LockClosedError } from '@lock/core';
import { ErrorReply } from 'redis';
import type { RedisClientLike, RedisClusterLike } from './client-types.js';
import { connectWithin } from './connect-within.js';
import { CommandDeadlines } from './deadlines.js';
import { toBackendError } from './errors.js';
import type { LockScript } from './scripts.js';

/** Where the connection's client comes from. */
export type ClientSource =
  /** A standalone client the user passed in and keeps owning. */
  | { readonly kind: 'client'; readonly client: RedisClientLike }
  /** A Cluster client the user passed in and keeps owning. */
  | { readonly kind: 'cluster'; readonly cluster: RedisClusterLike }
  /** Clients this package creates (and closes); `create` makes a fresh, unconnected one. */
  | { readonly kind: 'owned'; readonly create: () => RedisClientLike }
  /** A Cluster client this package creates (and closes); `create` makes a fresh one. */
  | { readonly kind: 'owned-cluster'; readonly create: () => RedisClusterLike };

/** Per-command options: no driver timer (our own deadlines replace it). */
const NO_DRIVER_TIMEOUT = { timeout: 0 } as const;

/**
 * One logical connection: connects lazily (and again after a failed first connect), sends raw
 * commands with our own deadlines, runs scripts by SHA with an EVAL fallback, and closes only
 * what it created.
 *
 * Replays. node-redis 6.3.1 never sends a command twice: it moves a command to its
 * waiting-for-reply list as it writes it, and a socket error rejects that whole list
 * (`flushWaitingForReply`, or `flushAll` without an offline queue); a Cluster client resends
 * only on MOVED/ASK, which the first node answers without running the command. So a script
 * whose reply was lost ran at most once (test "node-redis never resends a written lock
 * script"). What it does do, on a client you pass in with its offline queue on (the default):
 * a command made while the client is reconnecting waits in that queue and is written once the
 * client is back, possibly after our deadline has already failed the call. That is safe for
 * every lock script: EXTEND and RELEASE check the owner token, which is unique to one
 * acquisition, so a late one can only touch that acquisition's own lock; a late ACQUIRE only
 * takes a free lock (SET NX), and core's owner-checked release after an unknown outcome is
 * queued behind it on the same client. The queue keeps the order of calls, so a late extend
 * never lands after an extend made later. Clients this package creates have the offline queue
 * off and are destroyed when a command misses its deadline (see `ownedClientFactory`).
 * One reordering remains outside the driver: the kernel keeps retransmitting what a destroyed
 * connection had written, so after a partition heals such a request can still reach Redis
 * after commands sent on the new connection (an earlier extend with a shorter TTL after a later,
 * longer one). An extend that failed by deadline may still be applied later.
 */
export class RedisConnection {
  readonly #source: ClientSource;
  readonly #connectTimeoutMs: number;
  readonly #deadlines: CommandDeadlines;
  readonly #onFirstConnect: () => void;
  #client: RedisClientLike | RedisClusterLike | undefined;
  #connecting: Promise<RedisClientLike | RedisClusterLike> | undefined;
  #connectedOnce = false;
  #closed = false;

  /** Where the server is (`host:port`, no password), for messages. */
  readonly address: string;

  constructor(
    address: string,
    source: ClientSource,
    connectTimeoutMs: number,
    commandTimeoutMs: number,
    onFirstConnect: () => void,
  ) {
    this.address = address;
    this.#source = source;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#deadlines = new CommandDeadlines(commandTimeoutMs, () => this.#dropSuspectClient());
    this.#onFirstConnect = onFirstConnect;
  }

  /** Whether this connection talks to a Redis Cluster. */
  get isCluster(): boolean {
    return this.#source.kind === 'cluster' || this.#source.kind === 'owned-cluster';
  }

  /** Whether this package created the client (and so closes or replaces it). */
  get #owned(): boolean {
    return this.#source.kind === 'owned' || this.#source.kind === 'owned-cluster';
  }

  /** The source the client comes from (the subscriber makes its own from it). */
  get source(): ClientSource {
    return this.#source;
  }

  /** The connect timeout, in milliseconds. */
  get connectTimeoutMs(): number {
    return this.#connectTimeoutMs;
  }

  /** The command deadlines shared by everything on this connection. */
  get deadlines(): CommandDeadlines {
    return this.#deadlines;
  }

  /** The connected client, connecting first if needed. */
  async client(): Promise<RedisClientLike | RedisClusterLike> {
    if (this.#closed) throw new LockClosedError('redis backend');
    const current = this.#client;
    if (current?.isOpen) return current;
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Sends one raw command (routed by `firstKey` on a Cluster), bounded by the command timeout. */
  send(
    firstKey: string | undefined,
    args: readonly string[],
    what: string,
    key?: string,
  ): Promise<unknown> {
    // The hot path stays synchronous up to the write: an open client is used as is, without an
    // extra async hop through `client()` for every command.
    const open = this.#closed ? undefined : this.#client;
    if (open?.isOpen) return this.#deadlines.track(this.#write(open, firstKey, args), what, key);
    return this.client().then((client) =>
      this.#deadlines.track(this.#write(client, firstKey, args), what, key),
    );
  }

  #write(
    client: RedisClientLike | RedisClusterLike,
    firstKey: string | undefined,
    args: readonly string[],
  ): Promise<unknown> {
    return this.isCluster
      ? (client as RedisClusterLike).sendCommand(
          firstKey,
          false,
          args as string[],
          NO_DRIVER_TIMEOUT,
        )
      : (client as RedisClientLike).sendCommand(args, NO_DRIVER_TIMEOUT);
  }

  /**
   * Runs `script` by SHA (EVALSHA), loading it with EVAL when the server does not know it yet
   * (NOSCRIPT, such as after a restart). Errors become `BackendError`s.
   *
   * The NOSCRIPT fallback costs a round trip, during which later commands on this connection
   * overtake it. `sendText` sends EVAL at once instead, for rare scripts whose order matters
   * (leaving a queue must happen before this backend's next attempt).
   */
  eval(
    script: LockScript,
    keys: readonly string[],
    argv: readonly string[],
    what: string,
    key?: string,
    sendText = false,
  ): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...argv];
    const asBackendError = (error: unknown) => {
      throw toBackendError(error, what, key);
    };
    if (sendText) {
      return this.send(keys[0], ['EVAL', script.SCRIPT, ...tail], what, key).catch(asBackendError);
    }
    return this.send(keys[0], ['EVALSHA', script.SHA1, ...tail], what, key)
      .catch((error: unknown) => {
        if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error;
        return this.send(keys[0], ['EVAL', script.SCRIPT, ...tail], what, key);
      })
      .catch(asBackendError);
  }

  /** Closes the client if this package created it; never a client the user passed in. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#deadlines.rejectAll(new LockClosedError('redis backend'));
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    if (client === undefined || !this.#owned) return;
    await closeOwned(client, this.#connectTimeoutMs);
  }

  /**
   * A command got no reply in time. A client we own is destroyed so the next call connects
   * afresh: on a silently dropped connection (a partition, a NAT that forgot us) node-redis
   * would otherwise wait on the dead socket forever. A client the user owns is left alone.
   */
  #dropSuspectClient(): void {
    if (!this.#owned || this.#client === undefined) return;
    const client = this.#client;
    this.#client = undefined;
    client.destroy();
  }

  async #open(): Promise<RedisClientLike | RedisClusterLike> {
    const source = this.#source;
    let client: RedisClientLike | RedisClusterLike;
    if (source.kind === 'owned' || source.kind === 'owned-cluster') {
      client = source.create();
      try {
        await connectWithin(
          () => client.connect(),
          this.#connectTimeoutMs,
          `redis at ${this.address}`,
          () => client.destroy(),
        );
      } catch (error) {
        if (client.isOpen) client.destroy();
        throw toBackendError(error, `connect to ${this.address}`);
      }
    } else {
      client = source.kind === 'client' ? source.client : source.cluster;
      if (!client.isOpen) {
        try {
          await connectWithin(
            () => client.connect(),
            this.#connectTimeoutMs,
            `redis at ${this.address}`,
            () => {},
          );
        } catch (error) {
          throw toBackendError(error, `connect to ${this.address}`);
        }
      }
    }
    if (this.#closed) {
      if (this.#owned) client.destroy();
      throw new LockClosedError('redis backend');
    }
    this.#client = client;
    if (!this.#connectedOnce) {
      this.#connectedOnce = true;
      this.#onFirstConnect();
    }
    return client;
  }
}

/** Closes a client we own: gracefully if it answers in time, else by destroying it. */
export async function closeOwned(
  client: RedisClientLike | RedisClusterLike,
  timeoutMs: number,
): Promise<void> {
  if (!client.isOpen) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, timeoutMs);
  });
  try {
    await Promise.race([client.close().catch(() => client.destroy()), forced]);
  } finally {
    clearTimeout(timer);
  }
}
