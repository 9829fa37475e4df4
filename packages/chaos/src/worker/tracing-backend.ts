import type {
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  ExtendRequest,
  LockBackend,
  OwnerCheckedResult,
  QueuedAcquireOptions,
  QueuedGrant,
  ReleaseRequest,
  Unsubscribe,
} from '@lock/core';

/** What a {@link TracingBackend} reports. */
export interface TraceHooks {
  /** A renewal request is about to leave (before the backend sends it). */
  onRenewSent(request: ExtendRequest): void;
  /** A renewal's reply (or failure) came back. */
  onRenewSettled(): void;
}

/**
 * Passes every call through to a real backend unchanged, and reports each renewal request as it
 * leaves and when it settles. The keepalive lives inside the library, so this is how a worker
 * sees renewals go out (any of them may land, replied or not: the lower end of a takeover) and
 * reads the library's new validity right after one settles. Optional methods are present
 * exactly when the inner backend has them, so the library takes the same paths.
 */
export class TracingBackend implements LockBackend {
  readonly name: string;
  readonly #inner: LockBackend;
  readonly #hooks: TraceHooks;

  extendMany?: (requests: readonly ExtendRequest[]) => Promise<OwnerCheckedResult[]>;
  watch?: (key: string, onChange: () => void) => Unsubscribe | Promise<Unsubscribe>;
  acquireQueued?: (request: AcquireRequest, options: QueuedAcquireOptions) => Promise<QueuedGrant>;
  queuesAtOnce?: (key: string) => boolean;

  constructor(inner: LockBackend, hooks: TraceHooks) {
    this.#inner = inner;
    this.#hooks = hooks;
    this.name = inner.name;
    const { extendMany, watch, acquireQueued, queuesAtOnce } = inner;
    if (extendMany !== undefined) {
      this.extendMany = (requests) => {
        for (const request of requests) hooks.onRenewSent(request);
        return this.#settle(extendMany.call(inner, requests));
      };
    }
    if (watch !== undefined) this.watch = (key, onChange) => watch.call(inner, key, onChange);
    if (acquireQueued !== undefined) {
      this.acquireQueued = (request, options) => acquireQueued.call(inner, request, options);
    }
    if (queuesAtOnce !== undefined) this.queuesAtOnce = (key) => queuesAtOnce.call(inner, key);
  }

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#inner.acquire(request);
  }

  extend(request: ExtendRequest): Promise<OwnerCheckedResult> {
    this.#hooks.onRenewSent(request);
    return this.#settle(this.#inner.extend(request));
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

  #settle<T>(reply: Promise<T>): Promise<T> {
    const settled = () => setImmediate(() => this.#hooks.onRenewSettled());
    reply.then(settled, settled);
    return reply;
  }
}
