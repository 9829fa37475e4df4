/**
 * The few members of node-redis clients this package uses, as structural types, so a client
 * created with any modules, scripts or RESP version can be passed in.
 * @module
 */

/**
 * A pub/sub listener as node-redis calls it: strings unless the subscription asked for buffers
 * (this package never does), typed with both so that a client of any generics can be passed in.
 */
export type MessageListener = (message: string | Buffer, channel: string | Buffer) => unknown;

/** What both a standalone client and a cluster client offer. */
interface CommonClient {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  SUBSCRIBE(channels: string, listener: MessageListener): Promise<void>;
  UNSUBSCRIBE(channels: string, listener: MessageListener): Promise<void>;
}

/** A node-redis standalone client (`createClient()`), as used here. */
export interface RedisClientLike extends CommonClient {
  readonly isReady: boolean;
  sendCommand(args: readonly string[], options?: { timeout?: number }): Promise<unknown>;
  duplicate(): RedisClientLike;
}

/** A node-redis Cluster client (`createCluster()`), as used here. */
export interface RedisClusterLike extends CommonClient {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    // Mutable, as node-redis declares it (`CommandArguments`): a readonly array here made
    // `createCluster()`'s client unassignable to this type without a cast.
    args: string[],
    options?: { timeout?: number },
  ): Promise<unknown>;
}
