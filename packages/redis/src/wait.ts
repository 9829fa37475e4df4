/**
 * Resolves after `ms`, or as soon as `wake` (handed to `register`) is called; rejects with
 * `signal.reason` if `signal` aborts. Removes its timer and listener either way.
 */
export function sleepUnlessWoken(
  ms: number,
  signal: AbortSignal,
  register: (wake: () => void) => void,
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
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal.reason);
    const timer = setTimeout(() => finish(), Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
    register(() => finish());
  });
}
