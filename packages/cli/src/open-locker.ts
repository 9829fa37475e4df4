import { connect, type Locker, type LockerOptions, registerBackend } from '@lock/core';

/**
 * The one place `lock` opens a backend. Every command goes through here, so a change to
 * `connect()`'s contract (issue #10: reach the server within its timeout unless lazy) is
 * adapted to in one spot.
 *
 * `local:` is loaded from this package's own dependency, so it works wherever `@lock/cli` is
 * installed; every other scheme goes through core's table, which names the package to install
 * when it is missing.
 */
export async function openLocker(uri: string, options: LockerOptions): Promise<Locker> {
  registerBackend('local', () => import('@lock/local'));
  return connect(uri, options);
}

/** Longest wait for a backend to close before `lock` exits anyway. */
const CLOSE_LIMIT_MS = 3_000;

/**
 * Closes the locker (releasing anything still held), but waits at most a few seconds: `lock`
 * has released its lock (or lost it) by now, and a backend that waits out its requests to a
 * frozen server (etcd's release deadline is 5 s) must not hold back the exit code.
 */
export async function closeLocker(locker: Locker): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_LIMIT_MS);
  });
  try {
    await Promise.race([locker.close(), limit]);
  } finally {
    clearTimeout(timer);
  }
}
