/**
 * Our own deadline on every store request. The drivers' own timeouts are not enough (the AWS
 * SDK only warns unless told to throw, the Mongo driver's `timeoutMS` did nothing against a
 * paused server, Firestore has no per-call deadline at all), so each request races a timer.
 * @module
 */

/** A request outlived its deadline; its outcome is unknown (it may still land). */
export class DeadlineError extends Error {
  /** The deadline that ran out, in ms. */
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super(`${what} got no reply within ${timeoutMs} ms (operationTimeout); its outcome is unknown`);
    this.name = 'DeadlineError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Settles like `promise`, or rejects with {@link DeadlineError} after `timeoutMs`. A late
 * rejection of `promise` is swallowed (it has been reported as the deadline already).
 */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineError(what, timeoutMs)), timeoutMs);
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
