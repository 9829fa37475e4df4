// The authoritative lock state of the simulated backend: who holds each key, until when by the
// (shared, simulated) clock, and the fence counter. Requests are applied here by the network
// simulation, at the moment it chooses, never when they are sent.
import type {
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  ExtendRequest,
  OwnerCheckedResult,
  ReleaseRequest,
} from '../../src/backend.js';

/** One key's holding on the server. */
export interface Holding {
  readonly owner: string;
  /** The server drops the key at this time (simulated clock). */
  readonly expiresAt: number;
  readonly fence: number;
}

/** One grant the server made: the order of these is the grant order. */
export interface Grant {
  readonly key: string;
  readonly owner: string;
  readonly fence: number;
  readonly at: number;
}

/**
 * Keys, holders, expiries and fences. `shrink(ttl)` is how much earlier than `ttl` after
 * applying a request the server drops a key: up to the locker's drift margin, a server whose
 * clock runs fast. With the full margin the model's safety check has no slack at all.
 */
export class SimStore {
  readonly #now: () => number;
  readonly #shrink: (ttlMs: number) => number;
  readonly #keys = new Map<string, Holding>();
  readonly #fences = new Map<string, number>();
  /** The fence granted to each owner token (owner tokens are unique per acquisition). */
  readonly #grantByOwner = new Map<string, Grant>();
  readonly #onFree: (key: string) => void;
  readonly grants: Grant[] = [];

  constructor(now: () => number, shrink: (ttlMs: number) => number, onFree: (key: string) => void) {
    this.#now = now;
    this.#shrink = shrink;
    this.#onFree = onFree;
  }

  /** The live holding of `key`, or `undefined` when it is free (never set, released or expired). */
  holding(key: string): Holding | undefined {
    const holding = this.#keys.get(key);
    if (holding === undefined) return undefined;
    if (this.#now() >= holding.expiresAt) {
      this.#keys.delete(key);
      this.#onFree(key);
      return undefined;
    }
    return holding;
  }

  /** The holding of `key` as stored, expired or not, without touching anything. */
  peek(key: string): Holding | undefined {
    return this.#keys.get(key);
  }

  /** The grant made to `owner`, if any. */
  grantOf(owner: string): Grant | undefined {
    return this.#grantByOwner.get(owner);
  }

  acquire(request: AcquireRequest): AcquireResult {
    const now = this.#now();
    const current = this.holding(request.key);
    if (current !== undefined) {
      return { acquired: false, holder: current.owner, remainingMs: current.expiresAt - now };
    }
    const fence = (this.#fences.get(request.key) ?? 0) + 1;
    this.#fences.set(request.key, fence);
    this.#keys.set(request.key, {
      owner: request.owner,
      expiresAt: this.#expiry(request.ttlMs),
      fence,
    });
    const grant: Grant = { key: request.key, owner: request.owner, fence, at: now };
    this.grants.push(grant);
    this.#grantByOwner.set(request.owner, grant);
    return { acquired: true, fence };
  }

  extend(request: ExtendRequest): OwnerCheckedResult {
    const current = this.holding(request.key);
    if (current === undefined) return 'not-found';
    if (current.owner !== request.owner) return 'forbidden';
    this.#keys.set(request.key, { ...current, expiresAt: this.#expiry(request.ttlMs) });
    return 'ok';
  }

  release(request: ReleaseRequest): OwnerCheckedResult {
    const current = this.holding(request.key);
    if (current === undefined) return 'not-found';
    if (current.owner !== request.owner) return 'forbidden';
    this.#keys.delete(request.key);
    this.#onFree(request.key);
    return 'ok';
  }

  inspect(key: string): BackendLockInfo | undefined {
    const current = this.holding(key);
    if (current === undefined) return undefined;
    return {
      owner: current.owner,
      remainingMs: current.expiresAt - this.#now(),
      fence: current.fence,
    };
  }

  #expiry(ttlMs: number): number {
    return this.#now() + ttlMs - this.#shrink(ttlMs);
  }
}
