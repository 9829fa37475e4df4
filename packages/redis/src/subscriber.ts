import { ErrorReply } from 'redis';
import type { MessageListener, RedisClientLike, RedisClusterLike } from './client-types.js';
import { connectWithin } from './connect-within.js';
import { closeOwned, type RedisConnection } from './connection.js';
import { CommandDeadlines } from './deadlines.js';
import { toBackendError } from './errors.js';

interface Channel {
  readonly callbacks: Set<(message: string) => void>;
  readonly listener: MessageListener;
  subscribed: Promise<void>;
}

/**
 * One pub/sub connection per backend, shared by every watcher and queued waiter: a channel is
 * subscribed once however many wait on it, and unsubscribed when the last one leaves.
 * On a standalone server it is a duplicate of the main client (pub/sub needs a connection of its
 * own); on a Cluster, the cluster client's own pub/sub connection.
 */
export class SharedSubscriber {
  readonly #connection: RedisConnection;
  readonly #channels = new Map<string, Channel>();
  /** Its own deadlines: a slow SUBSCRIBE must not make the main connection look dead. */
  readonly #deadlines: CommandDeadlines;
  #client: RedisClientLike | RedisClusterLike | undefined;
  #opening: Promise<RedisClientLike | RedisClusterLike> | undefined;
  #owned = false;
  #closed = false;

  constructor(connection: RedisConnection) {
    this.#connection = connection;
    this.#deadlines = new CommandDeadlines(connection.deadlines.timeoutMs);
  }

  /**
   * Calls `callback` with every message on `channel` until the returned function is called.
   * Resolves once the subscription is active, so nothing published afterwards is missed.
   */
  async add(channel: string, callback: (message: string) => void): Promise<() => void> {
    let entry = this.#channels.get(channel);
    if (entry === undefined) {
      const callbacks = new Set<(message: string) => void>();
      const listener: MessageListener = (message) => {
        const text = typeof message === 'string' ? message : message.toString();
        for (const cb of [...callbacks]) cb(text);
      };
      const created: Channel = { callbacks, listener, subscribed: Promise.resolve() };
      created.subscribed = this.#subscribe(channel, listener);
      entry = created;
      this.#channels.set(channel, entry);
      entry.subscribed.catch(() => {
        if (this.#channels.get(channel) === created) this.#channels.delete(channel);
      });
    }
    entry.callbacks.add(callback);
    const current = entry;
    try {
      await current.subscribed;
    } catch (error) {
      current.callbacks.delete(callback);
      throw error;
    }
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      current.callbacks.delete(callback);
      if (current.callbacks.size > 0 || this.#channels.get(channel) !== current) return;
      this.#channels.delete(channel);
      const client = this.#client;
      if (client?.isOpen && !this.#closed) {
        // A failed unsubscribe only leaves a channel we ignore; nothing to report.
        this.#deadlines
          .track(client.UNSUBSCRIBE(channel, current.listener), 'UNSUBSCRIBE')
          .catch(() => {});
      }
    };
  }

  /** Closes the subscriber connection if this package opened it. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    const client = this.#client ?? (await this.#opening?.catch(() => undefined));
    this.#client = undefined;
    if (client !== undefined && this.#owned) {
      await closeOwned(client, this.#connection.connectTimeoutMs);
    }
  }

  async #subscribe(channel: string, listener: MessageListener): Promise<void> {
    const client = await this.#open();
    try {
      await this.#deadlines.track(client.SUBSCRIBE(channel, listener), 'SUBSCRIBE');
    } catch (error) {
      throw toBackendError(error, 'subscribe');
    }
  }

  async #open(): Promise<RedisClientLike | RedisClusterLike> {
    if (this.#client?.isOpen) return this.#client;
    this.#opening ??= this.#connect().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #connect(): Promise<RedisClientLike | RedisClusterLike> {
    const main = await this.#connection.client();
    const source = this.#connection.source;
    if (source.kind === 'cluster' || source.kind === 'owned-cluster') {
      this.#owned = false;
      this.#client = main;
      return main;
    }
    const client =
      source.kind === 'owned' ? source.create() : (main as RedisClientLike).duplicate();
    if (source.kind === 'client') client.on('error', () => {});
    try {
      await connectWithin(
        () => client.connect(),
        this.#connection.connectTimeoutMs,
        'redis (subscriber)',
        () => client.destroy(),
      );
    } catch (error) {
      if (client.isOpen) client.destroy();
      throw toBackendError(error, 'connect (subscriber)');
    }
    if (this.#closed) {
      client.destroy();
      throw toBackendError(new Error('closed while connecting'), 'connect (subscriber)');
    }
    this.#owned = true;
    this.#client = client;
    return client;
  }
}

/** True when the server refused a subscription (an ACL without channel rights, say). */
export function isRefusedSubscription(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return error instanceof ErrorReply || cause instanceof ErrorReply;
}
