/**
 * The lock library as a worker sees it: `@lock/core` and the deliberately broken clients of
 * `variants/` both look like this, so the same workload and checkers run on either.
 * @module
 */

/** Options of one acquisition. */
export interface AcquireOptions {
  readonly ttlMs: number;
  /** Called once, when the library decides the lock is lost. */
  readonly onLost: (reason: string) => void;
}

/** A held lock. */
export interface HoldHandle {
  readonly fence: number;
  /** The owner token (never logged: the hold's id names it in the logs). */
  readonly owner: string;
  /** The library's own end of certain validity, on `performance.now()`'s clock. */
  validUntil(): number;
  /** The library's `held` (it may notice a loss when asked). */
  held(): boolean;
  extend(ttlMs?: number): Promise<void>;
  release(): Promise<void>;
}

/** A locker. */
export interface LockClient {
  /** Waits up to `timeoutMs` for the lock; rejects on timeout. */
  lock(key: string, options: AcquireOptions & { readonly timeoutMs: number }): Promise<HoldHandle>;
  /** One attempt; `undefined` when someone else holds the key. */
  tryLock(key: string, options: AcquireOptions): Promise<HoldHandle | undefined>;
  close(): Promise<void>;
}

/** The code of a library error (`TIMEOUT`, `LOST`…), else the error's name. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return typeof error;
}

/** A one-line description of an error (library messages carry no secrets). */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
