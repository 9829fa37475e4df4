import type { Clock } from './clock.js';

/**
 * Resolves after `ms` on `clock`, or as soon as the `wake` function handed to
 * `onWakeRegistered` is called, whichever comes first; rejects with `signal.reason` if `signal`
 * aborts. Removes its timer and listener either way. Exported for backends that wait themselves.
 * @example
 * ```ts
 * await sleep(systemClock, pollMs, signal, (wake) => { onMessage = wake; });
 * ```
 */
export function sleep(
  clock: Clock,
  ms: number,
  signal: AbortSignal,
  onWakeRegistered?: (wake: () => void) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal.reason);
    const timer = clock.setTimeout(() => finish(), ms);
    signal.addEventListener('abort', onAbort, { once: true });
    onWakeRegistered?.(() => finish());
  });
}

/**
 * Settles like `promise`, unless `signal` aborts first: then rejects with `signal.reason`.
 * The listener is removed either way. `promise` itself keeps running. Exported for backends.
 * @example
 * ```ts
 * const reply = await raceSignal(client.get(key), options.signal);
 * ```
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Full-jitter exponential backoff: a random delay in [min, min(max, min·2^attempt)]. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return minMs + Math.random() * (ceiling - minMs);
}
