import type {
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  ExtendRequest,
  LockBackend,
  OwnerCheckedResult,
  ReleaseRequest,
  Unsubscribe,
} from '@lock/core';

/**
 * What a {@link FaultyBackend} does to calls of the methods it is told to disturb:
 * - `fail`: the call never reaches the server and rejects (a refused connection);
 * - `hang`: the call waits before it reaches the server, until `unhang()` (a frozen client side);
 * - `lose-reply`: the call reaches the server and is applied, then rejects as if its reply were
 *   lost (the outcome is unknown to the caller);
 * - `hold-reply`: the call reaches the server and is applied, its reply is held until `unhang()`
 *   (a reply delayed in the network);
 * - `{ delayMs }`: the call reaches the server only after `delayMs`.
 */
export type Fault =
  | 'none'
  | 'fail'
  | 'hang'
  | 'lose-reply'
  | 'hold-reply'
  | { readonly delayMs: number };

/** The methods a fault can be set on; `extendMany` falls back to `extend`'s fault when unset. */
export type FaultyMethod = 'acquire' | 'extend' | 'extendMany' | 'release' | 'inspect';

/**
 * Wraps a real backend and, on demand, makes its calls fail, hang, lose or hold their replies,
 * as a dead, slow or partitioned server would. Everything else goes to the real backend, so
 * the lock semantics stay real.
 */
export class FaultyBackend implements LockBackend {
  readonly name: string;
  readonly inner: LockBackend;
  /** Counts of calls per method, faulted or not (`extendMany` counts as `extend`). */
  readonly calls: Record<Exclude<FaultyMethod, 'extendMany'>, number> = {
    acquire: 0,
    extend: 0,
    release: 0,
    inspect: 0,
  };
  #faults: Partial<Record<FaultyMethod, Fault>> = {};
  #hung: (() => void)[] = [];

  constructor(inner: LockBackend) {
    this.inner = inner;
    this.name = `faulty(${inner.name})`;
    if (inner.watch)
      this.watch = (key, onChange) =>
        (inner.watch as NonNullable<LockBackend['watch']>)(key, onChange);
  }

  watch?: (key: string, onChange: () => void) => Unsubscribe | Promise<Unsubscribe>;

  /** Sets the fault for some methods (`'none'` clears it). */
  set(fault: Fault, ...methods: FaultyMethod[]): void {
    for (const method of methods) this.#faults[method] = fault;
  }

  /** Number of calls waiting in `hang` or `hold-reply`. */
  get held(): number {
    return this.#hung.length;
  }

  /** Lets every hung call go on, and every held reply come back. */
  unhang(): void {
    for (const release of this.#hung.splice(0)) release();
  }

  /**
   * Runs after each real acquire, before its result is returned: lets a test change the world
   * exactly between a failed try and the caller's wait.
   */
  afterAcquire: ((result: AcquireResult) => void) | undefined;

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#call('acquire', 'acquire', async () => {
      const result = await this.inner.acquire(request);
      this.afterAcquire?.(result);
      return result;
    });
  }

  extend(request: ExtendRequest): Promise<OwnerCheckedResult> {
    return this.#call('extend', 'extend', () => this.inner.extend(request));
  }

  async extendMany(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    return this.#call('extend', 'extendMany', () =>
      this.inner.extendMany
        ? this.inner.extendMany(requests)
        : Promise.all(requests.map((r) => this.inner.extend(r))),
    );
  }

  release(request: ReleaseRequest): Promise<OwnerCheckedResult> {
    return this.#call('release', 'release', () => this.inner.release(request));
  }

  inspect(key: string): Promise<BackendLockInfo | undefined> {
    return this.#call('inspect', 'inspect', () => this.inner.inspect(key));
  }

  close(): Promise<void> {
    this.unhang();
    return this.inner.close();
  }

  async #call<T>(
    counted: keyof FaultyBackend['calls'],
    method: FaultyMethod,
    run: () => Promise<T>,
  ): Promise<T> {
    this.calls[counted] += 1;
    const fault =
      this.#faults[method] ?? (method === 'extendMany' ? this.#faults.extend : undefined) ?? 'none';
    if (fault === 'fail') throw new Error(`injected failure of ${method}`);
    if (fault === 'hang') await this.#wait();
    if (typeof fault === 'object')
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    const result = await run();
    if (fault === 'lose-reply') throw new Error(`injected loss of the reply to ${method}`);
    if (fault === 'hold-reply') await this.#wait();
    return result;
  }

  #wait(): Promise<void> {
    return new Promise<void>((resolve) => this.#hung.push(resolve));
  }
}
