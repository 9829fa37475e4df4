import {
  RedisClient,
  type RedisClientOptions,
  RedisCluster,
  type RedisClusterOptions,
} from 'redis';
import type { RedisClientLike, RedisClusterLike } from './client-types.js';

/**
 * A client class built once, without the Redis Stack modules (this package sends raw commands
 * only). `redis`' `createClient` builds a new class with every module command on each call,
 * which made each connect cost 100+ ms of CPU.
 */
const createBareClient = RedisClient.factory(Object.freeze({}));

/** The same for Cluster clients. */
const createBareCluster = RedisCluster.factory(Object.freeze({}));

/** Longest pause between reconnect attempts once a client has been connected. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * Returns a factory of clients this package owns, built from the user's options with what a
 * lock needs to fail fast:
 * - a reconnect strategy that fails the *first* connect at once (node-redis' default retries a
 *   refused connection forever, so `connect()` would never reject), and reconnects with capped
 *   backoff after the client has been connected once;
 * - no offline queue: while disconnected, commands fail at once instead of waiting;
 * - no per-command driver timer (`timeout: 0`): it does not fire once a command is written and
 *   costs throughput; our own deadlines replace it;
 * - an `error` listener, so a dropped connection is not an uncaught `error` event.
 */
export function ownedClientFactory(
  options: RedisClientOptions,
  connectTimeoutMs: number,
): () => RedisClientLike {
  return () => {
    let connected = false;
    const socket = {
      connectTimeout: connectTimeoutMs,
      ...options.socket,
      reconnectStrategy: (retries: number, cause: Error) =>
        connected
          ? Math.min(MAX_RECONNECT_DELAY_MS, 25 * 2 ** retries)
          : // A fresh Error from this realm: the driver tests `instanceof Error`, which a socket
            // error fails when created in another realm (a jest sandbox, a vm context).
            new Error(`could not connect: ${cause.message}`, { cause }),
    } as NonNullable<RedisClientOptions['socket']>;
    const client = createBareClient({
      ...options,
      socket,
      disableOfflineQueue: true,
      commandOptions: { ...options.commandOptions, timeout: 0 },
    }) as unknown as RedisClientLike & {
      on(event: 'ready', listener: () => void): unknown;
    };
    client.on('ready', () => {
      connected = true;
    });
    client.on('error', () => {
      // Connection errors surface as command failures (BackendError); nothing to do here.
    });
    return client;
  };
}

/**
 * Returns a factory of Cluster clients this package owns, built from the user's options with,
 * for every node connection, what {@link ownedClientFactory} gives a standalone client: a
 * connect timeout, capped reconnect backoff, no offline queue, no per-command driver timer,
 * and an `error` listener. A first connect that fails is bounded by the backend's own timer.
 */
export function ownedClusterFactory(
  options: RedisClusterOptions,
  connectTimeoutMs: number,
): () => RedisClusterLike {
  return () => {
    const defaults = options.defaults ?? {};
    const cluster = createBareCluster({
      ...options,
      defaults: {
        ...defaults,
        socket: {
          connectTimeout: connectTimeoutMs,
          ...defaults.socket,
          reconnectStrategy: (retries: number) =>
            Math.min(MAX_RECONNECT_DELAY_MS, 25 * 2 ** retries),
        } as NonNullable<RedisClientOptions['socket']>,
        disableOfflineQueue: true,
      },
      commandOptions: { ...options.commandOptions, timeout: 0 },
    } as RedisClusterOptions) as unknown as RedisClusterLike;
    cluster.on('error', () => {
      // Node errors surface as command failures (BackendError); nothing to do here.
    });
    return cluster;
  };
}
