import type {
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  ExtendRequest,
  LockBackend,
  OwnerCheckedResult,
  ReleaseRequest,
} from '@lock/core';
import { createClient } from 'redis';

const ACQUIRE = `if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('incr', KEYS[2])
end
return 0`;

const EXTEND = `local owner = redis.call('get', KEYS[1])
if owner == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
if owner then return 2 end
return 0`;

const RELEASE = `local owner = redis.call('get', KEYS[1])
if owner == ARGV[1] then redis.call('del', KEYS[1]) return 1 end
if owner then return 2 end
return 0`;

const DELETE = `return redis.call('del', KEYS[1])`;

const RESULTS: readonly OwnerCheckedResult[] = ['not-found', 'ok', 'forbidden'];

/** The few node-redis calls this store makes. */
interface RawClient {
  sendCommand(args: string[]): Promise<unknown>;
  destroy(): void;
}

/**
 * A lock store straight on node-redis, with none of `@lock/redis`'s defences: no deadline of its
 * own (node-redis stops timing a command once it is written, so a call to a frozen server waits
 * until it thaws), and optionally an unconditional delete on release. The scripts are the
 * textbook ones (SET NX PX with a fence counter, owner-checked PEXPIRE and DEL). Only the
 * deliberately broken clients use it: `@lock/redis` is what the library ships.
 */
export class RawRedisBackend implements LockBackend {
  readonly name = 'raw-redis';
  readonly #client: RawClient;
  /** Releases go on a connection of their own, so a release held up in the network does not hold up the rest. */
  readonly #releaser: RawClient;
  readonly #prefix: string;
  readonly #unconditionalDelete: boolean;

  private constructor(
    client: RawClient,
    releaser: RawClient,
    prefix: string,
    unconditionalDelete: boolean,
  ) {
    this.#client = client;
    this.#releaser = releaser;
    this.#prefix = prefix;
    this.#unconditionalDelete = unconditionalDelete;
  }

  /** Connects to `url`; reconnects with a short backoff after a dropped connection. */
  static async open(
    url: string,
    prefix: string,
    options: { unconditionalDelete: boolean },
  ): Promise<RawRedisBackend> {
    const connect = async () => {
      const client = createClient({
        url,
        socket: {
          connectTimeout: 2_000,
          reconnectStrategy: (retries) => Math.min(500, 20 * 2 ** retries),
        },
      });
      client.on('error', () => {
        // dropped connections show up as failed or slow commands
      });
      await client.connect();
      return client as unknown as RawClient;
    };
    const [client, releaser] = await Promise.all([connect(), connect()]);
    return new RawRedisBackend(client, releaser, prefix, options.unconditionalDelete);
  }

  async acquire({ key, owner, ttlMs }: AcquireRequest): Promise<AcquireResult> {
    const fence = Number(
      await this.#eval(ACQUIRE, key, this.#client, owner, String(Math.ceil(ttlMs))),
    );
    return fence > 0 ? { acquired: true, fence } : { acquired: false };
  }

  async extend({ key, owner, ttlMs }: ExtendRequest): Promise<OwnerCheckedResult> {
    const reply = await this.#eval(EXTEND, key, this.#client, owner, String(Math.ceil(ttlMs)));
    return RESULTS[Number(reply)] ?? 'not-found';
  }

  async release({ key, owner }: ReleaseRequest): Promise<OwnerCheckedResult> {
    if (this.#unconditionalDelete) {
      return Number(await this.#eval(DELETE, key, this.#releaser)) > 0 ? 'ok' : 'not-found';
    }
    return RESULTS[Number(await this.#eval(RELEASE, key, this.#releaser, owner))] ?? 'not-found';
  }

  async inspect(key: string): Promise<BackendLockInfo | undefined> {
    const lockKey = `${this.#prefix}{${key}}:lock`;
    const [owner, pttl] = (await Promise.all([
      this.#client.sendCommand(['GET', lockKey]),
      this.#client.sendCommand(['PTTL', lockKey]),
    ])) as unknown as [string | null, number];
    if (owner === null) return undefined;
    return { owner, remainingMs: pttl >= 0 ? pttl : undefined, fence: undefined };
  }

  async close(): Promise<void> {
    this.#client.destroy();
    this.#releaser.destroy();
  }

  #eval(script: string, key: string, client: RawClient, ...args: string[]): Promise<unknown> {
    const keys = [`${this.#prefix}{${key}}:lock`, `${this.#prefix}{${key}}:fence`];
    return client.sendCommand(['EVAL', script, String(keys.length), ...keys, ...args]);
  }
}
