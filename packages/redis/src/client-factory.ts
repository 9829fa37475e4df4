import { createClient, type RedisClientOptions } from 'redis';
import type { RedisClientLike } from './client-types.js';

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
        connected ? Math.min(MAX_RECONNECT_DELAY_MS, 25 * 2 ** retries) : cause,
    } as NonNullable<RedisClientOptions['socket']>;
    const client = createClient({
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
