import {
  createLocker,
  isLockError,
  type LockBackend,
  type Locker,
  type LockHandle,
} from '@lock/core';
import type { AcquireOptions, HoldHandle, LockClient } from './client.js';

/** `@lock/core`'s locker as a {@link LockClient}: the library under test. */
export class CoreClient implements LockClient {
  readonly #locker: Locker;

  constructor(
    backend: LockBackend,
    options: {
      identity: string;
      ttlMs: number;
      pollIntervalMs: number;
      onError: (e: unknown) => void;
    },
  ) {
    this.#locker = createLocker(backend, {
      identity: options.identity,
      ttl: options.ttlMs,
      retry: { pollInterval: options.pollIntervalMs },
      onError: options.onError,
    });
  }

  async lock(key: string, options: AcquireOptions & { timeoutMs: number }): Promise<HoldHandle> {
    const lock = await this.#locker.lock(key, {
      timeout: options.timeoutMs,
      ttl: options.ttlMs,
      onLost: (error) => options.onLost(error.reason),
    });
    return wrap(lock);
  }

  async tryLock(key: string, options: AcquireOptions): Promise<HoldHandle | undefined> {
    try {
      const lock = await this.#locker.tryLock(key, {
        ttl: options.ttlMs,
        onLost: (error) => options.onLost(error.reason),
      });
      return wrap(lock);
    } catch (error) {
      if (isLockError(error, 'NOT_ACQUIRED')) return undefined;
      throw error;
    }
  }

  close(): Promise<void> {
    return this.#locker.close();
  }
}

function wrap(lock: LockHandle): HoldHandle {
  return {
    fence: lock.fence,
    owner: lock.owner,
    validUntil: () => lock.validUntil,
    held: () => lock.held,
    extend: (ttlMs) => lock.extend(ttlMs),
    release: () => lock.release(),
  };
}
