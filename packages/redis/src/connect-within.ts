import { BackendError } from '@lock/core';

/**
 * Runs `connect` but gives up after `timeoutMs` by our own timer: node-redis' `connect()` can
 * hang against a frozen server despite `socket.connectTimeout`. On timeout `onTimeout` runs
 * (to destroy a client we own) and a `BackendError` is thrown.
 */
export async function connectWithin(
  connect: () => Promise<unknown>,
  timeoutMs: number,
  what: string,
  onTimeout: () => void,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(
        new BackendError(`could not connect to ${what} within ${timeoutMs} ms`, {
          cause: new Error(`connect timed out after ${timeoutMs} ms`),
        }),
      );
    }, timeoutMs);
  });
  try {
    await Promise.race([connect(), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
