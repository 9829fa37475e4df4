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

/** What a {@link FaultyBackend} does to calls of the methods it is told to disturb. */
export type Fault = 'none' | 'fail' | 'hang';

type Method = 'acquire' | 'extend' | 'release' | 'inspect';

/**
 * Wraps a real backend and, on demand, makes its calls fail or hang, as a dead or partitioned
 * server would. Everything else goes to the real backend, so the lock semantics stay real.
 */
export class FaultyBackend implements LockBackend {
  readonly name: string;
  readonly inner: LockBackend;
  /** Counts of calls per method, faulted or not. */
  readonly calls: Record<Method, number> = { acquire: 0, extend: 0, release: 0, inspect: 0 };
  #faults: Partial<Record<Method, Fault>> = {};
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
  set(fault: Fault, ...methods: Method[]): void {
    for (const method of methods) this.#faults[method] = fault;
  }

  /** Lets every hung call go on to the real backend. */
  unhang(): void {
    for (const release of this.#hung.splice(0)) release();
  }

  /**
   * Runs after each real acquire, before its result is returned: lets a test change the world
   * exactly between a failed try and the caller's wait.
   */
  afterAcquire: ((result: AcquireResult) => void) | undefined;

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#call('acquire', async () => {
      const result = await this.inner.acquire(request);
      this.afterAcquire?.(result);
      return result;
    });
  }

  extend(request: ExtendRequest): Promise<OwnerCheckedResult> {
    return this.#call('extend', () => this.inner.extend(request));
  }

  async extendMany(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    return this.#call('extend', () =>
      this.inner.extendMany
        ? this.inner.extendMany(requests)
        : Promise.all(requests.map((r) => this.inner.extend(r))),
    );
  }

  release(request: ReleaseRequest): Promise<OwnerCheckedResult> {
    return this.#call('release', () => this.inner.release(request));
  }

  inspect(key: string): Promise<BackendLockInfo | undefined> {
    return this.#call('inspect', () => this.inner.inspect(key));
  }

  close(): Promise<void> {
    this.unhang();
    return this.inner.close();
  }

  async #call<T>(method: Method, run: () => Promise<T>): Promise<T> {
    this.calls[method] += 1;
    const fault = this.#faults[method] ?? 'none';
    if (fault === 'fail') throw new Error(`injected failure of ${method}`);
    if (fault === 'hang') await new Promise<void>((resolve) => this.#hung.push(resolve));
    return run();
  }
}
