import { BackendError, isLockError, type Locker, type Unsubscribe } from '@lock/core';

/** Poll interval while subscribed to the backend's notifications: covers a lost one. */
const SAFETY_POLL_MS = 1_000;
/** Poll intervals on a backend without notifications: from the first to the last. */
const FIRST_POLL_MS = 25;
const LAST_POLL_MS = 500;

/** How a wait ended. */
export type WaitOutcome = 'free' | 'timeout' | 'stopped';

/**
 * Waits until nobody holds `key`, without taking it: subscribed to the backend's notifications
 * before the first look (so a release in between still wakes it), polling only as a safety net
 * or when the backend has none, and waking when the holder's TTL runs out.
 * @returns `'free'`, `'timeout'` once `timeoutMs` has passed, or `'stopped'` when `stop` aborts.
 */
export async function waitUntilFree(
  locker: Locker,
  key: string,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<WaitOutcome> {
  let woken = false;
  let wake: (() => void) | undefined;
  const unsubscribe = await subscribe(locker, key, () => {
    woken = true;
    wake?.();
  });
  try {
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      woken = false;
      const info = await locker.inspect(key);
      if (info === undefined) return 'free';
      const elapsed = performance.now() - started;
      if (elapsed >= timeoutMs) return 'timeout';
      if (stop.aborted) return 'stopped';
      let delay =
        unsubscribe === undefined
          ? Math.min(LAST_POLL_MS, FIRST_POLL_MS * 2 ** attempt)
          : SAFETY_POLL_MS;
      if (info.remainingMs !== undefined) delay = Math.min(delay, info.remainingMs + 1);
      delay = Math.min(delay, timeoutMs - elapsed);
      if (!woken) {
        await pause(delay, stop, (resume) => {
          wake = resume;
        });
      }
      wake = undefined;
    }
  } finally {
    await Promise.resolve(unsubscribe?.()).catch(() => {});
  }
}

async function subscribe(
  locker: Locker,
  key: string,
  onChange: () => void,
): Promise<Unsubscribe | undefined> {
  const backend = locker.backend;
  if (backend.watch === undefined) return undefined;
  try {
    return await backend.watch(key, onChange);
  } catch (error) {
    if (isLockError(error)) throw error;
    throw new BackendError(`watching lock "${key}" failed`, { cause: error, key });
  }
}

/**
 * Resolves after `ms`, when the function handed to `onWake` is called, or when `stop` aborts.
 * Its timer is a normal (ref'd) one: on `local:` nothing else keeps the process alive while it waits.
 */
function pause(ms: number, stop: AbortSignal, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop.addEventListener('abort', done, { once: true });
    onWake(done);
  });
}
