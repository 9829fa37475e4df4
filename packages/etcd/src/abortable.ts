/**
 * Settles like `promise`, unless `signal` aborts first: then rejects with `signal.reason`.
 * `promise` keeps running; its listener is removed either way.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
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

/**
 * Resolves after `ms`, or as soon as `wake` (handed to `onWake`) is called; rejects with
 * `signal.reason` when `signal` aborts. Removes its timer and listener either way.
 */
export function sleep(
  ms: number,
  signal: AbortSignal,
  onWake?: (wake: () => void) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const finish = (error?: unknown) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal.reason);
    const timer = setTimeout(() => finish(), ms);
    timer.unref?.();
    signal.addEventListener('abort', onAbort, { once: true });
    onWake?.(() => finish());
  });
}

/**
 * A signal that aborts when either `a` or `b` does, with that one's reason (what
 * `AbortSignal.any` does, which Node only has from 20.3). Returns a disposer that removes its
 * listeners.
 */
export function eitherSignal(a: AbortSignal, b: AbortSignal): [AbortSignal, () => void] {
  const controller = new AbortController();
  const fromA = () => controller.abort(a.reason);
  const fromB = () => controller.abort(b.reason);
  if (a.aborted) fromA();
  else if (b.aborted) fromB();
  a.addEventListener('abort', fromA, { once: true });
  b.addEventListener('abort', fromB, { once: true });
  return [
    controller.signal,
    () => {
      a.removeEventListener('abort', fromA);
      b.removeEventListener('abort', fromB);
    },
  ];
}
