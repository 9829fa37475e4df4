// A LockBackend whose every call is a request on the simulated network: applied to the store and
// answered only when the schedule says so. One instance per connection (one root locker).
import type {
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  ExtendRequest,
  LockBackend,
  OwnerCheckedResult,
  ReleaseRequest,
  Unsubscribe,
} from '../../src/backend.js';
import type { SimNetwork } from './sim-network.js';

/** What a simulated connection offers beyond the four required calls. */
export interface SimFeatures {
  /** Offer `extendMany` (one request for a keepalive batch) instead of one `extend` per lock. */
  readonly extendMany: boolean;
  /** Offer `watch` (change notifications, which the schedule may delay or lose). */
  readonly watch: boolean;
}

/** One connection to the simulated store. Records the calls it gets after `close()`. */
export class SimBackend implements LockBackend {
  readonly name: string;
  readonly #network: SimNetwork;
  readonly #watchers = new Map<string, Set<() => void>>();
  /** Renewals (extend requests) sent per owner token. */
  readonly #renewals = new Map<string, number>();
  #closed = false;
  /** Problems seen by the connection itself (a call after close, close with calls under way). */
  readonly problems: string[] = [];

  constructor(name: string, network: SimNetwork, features: SimFeatures) {
    this.name = name;
    this.#network = network;
    if (features.extendMany) {
      this.extendMany = (requests) => {
        for (const request of requests) this.#countRenewal(request.owner);
        return this.#send(`extendMany ${requests.map(describe).join(', ')}`, () =>
          requests.map((request) => network.store.extend(request)),
        );
      };
    }
    if (features.watch) {
      this.watch = (key, onChange) => this.#watch(key, onChange);
    }
  }

  extendMany?: (requests: readonly ExtendRequest[]) => Promise<OwnerCheckedResult[]>;
  watch?: (key: string, onChange: () => void) => Unsubscribe;

  get closed(): boolean {
    return this.#closed;
  }

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#send(`acquire ${describe(request)}`, () => this.#network.store.acquire(request));
  }

  /** Number of extend requests sent so far for `owner`. */
  renewalsSent(owner: string): number {
    return this.#renewals.get(owner) ?? 0;
  }

  extend(request: ExtendRequest): Promise<OwnerCheckedResult> {
    this.#countRenewal(request.owner);
    return this.#send(`extend ${describe(request)}`, () => this.#network.store.extend(request));
  }

  release(request: ReleaseRequest): Promise<OwnerCheckedResult> {
    return this.#send(`release ${describe(request)}`, () => this.#network.store.release(request));
  }

  inspect(key: string): Promise<BackendLockInfo | undefined> {
    return this.#send(`inspect ${key}`, () => this.#network.store.inspect(key));
  }

  async close(): Promise<void> {
    const under = this.#network.pendingOf(this.name);
    if (under > 0) {
      this.problems.push(`${this.name} was closed with ${under} call(s) still under way`);
    }
    this.#closed = true;
    this.#watchers.clear();
  }

  /** Called by the store's owner when `key` may have become free. */
  keyFreed(key: string): void {
    const watchers = this.#watchers.get(key);
    if (watchers === undefined) return;
    for (const onChange of watchers) this.#network.notify(this.name, key, onChange);
  }

  #countRenewal(owner: string): void {
    this.#renewals.set(owner, this.renewalsSent(owner) + 1);
  }

  #send<T>(label: string, apply: () => T): Promise<T> {
    if (this.#closed) this.problems.push(`${this.name} got "${label}" after close()`);
    return this.#network.send(this.name, label, apply);
  }

  #watch(key: string, onChange: () => void): Unsubscribe {
    if (this.#closed) this.problems.push(`${this.name} got "watch ${key}" after close()`);
    let watchers = this.#watchers.get(key);
    if (watchers === undefined) {
      watchers = new Set();
      this.#watchers.set(key, watchers);
    }
    // A fresh function per subscription, so two waits on one key are two watchers.
    const listener = () => onChange();
    watchers.add(listener);
    return () => {
      watchers.delete(listener);
      if (watchers.size === 0) this.#watchers.delete(key);
    };
  }
}

function describe(request: { key: string; owner: string; ttlMs?: number }): string {
  const owner = request.owner.slice(0, request.owner.indexOf('.') + 5);
  return `${request.key}/${owner}${request.ttlMs === undefined ? '' : `/${request.ttlMs}`}`;
}
