import type {
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  ExtendRequest,
  LockBackend,
  OwnerCheckedResult,
  ReleaseRequest,
} from '@lock/core';
import type { BackendFlaw } from '../worker/protocol.js';

/** How much longer than asked a `no-expiry` backend keeps a lock. */
const NO_EXPIRY_FACTOR = 1_000;
/** memcached reads TTLs over 30 days as dates; an hour is "forever" for a run. */
const NO_EXPIRY_CAP_MS = 3_600_000;

/**
 * A real backend with deliberate flaws, for the checkers to catch:
 * - `no-fencing`: every grant carries fence 1;
 * - `no-expiry`: locks are stored with a TTL 1000 × longer than asked (a crashed holder's lock
 *   as good as never expires), while the client keeps judging by the TTL it asked for.
 * (`unconditional-delete` needs a raw delete: see `RawRedisBackend`.)
 * Only the mandatory methods are passed on: the clients that use these flaws need no more.
 */
export class FlawedBackend implements LockBackend {
  readonly name: string;
  readonly #inner: LockBackend;
  readonly #flaws: ReadonlySet<BackendFlaw>;

  constructor(inner: LockBackend, flaws: readonly BackendFlaw[]) {
    this.#inner = inner;
    this.#flaws = new Set(flaws);
    this.name = `${inner.name} (${flaws.join(', ')})`;
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const result = await this.#inner.acquire({ ...request, ttlMs: this.#ttl(request.ttlMs) });
    if (!result.acquired) return result;
    return {
      acquired: true,
      fence: this.#flaws.has('no-fencing') ? 1 : result.fence,
    };
  }

  extend(request: ExtendRequest): Promise<OwnerCheckedResult> {
    return this.#inner.extend({ ...request, ttlMs: this.#ttl(request.ttlMs) });
  }

  release(request: ReleaseRequest): Promise<OwnerCheckedResult> {
    return this.#inner.release(request);
  }

  inspect(key: string): Promise<BackendLockInfo | undefined> {
    return this.#inner.inspect(key);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  #ttl(ttlMs: number): number {
    return this.#flaws.has('no-expiry')
      ? Math.min(NO_EXPIRY_CAP_MS, ttlMs * NO_EXPIRY_FACTOR)
      : ttlMs;
  }
}
