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
