import type { Locker } from '@lock/core';
import type { LockAdapter } from '../adapter.js';

/** Our locker behind the adapter interface: `lock()` to wait, `release()` to free. */
export function ourAdapter(
  name: string,
  locker: Locker,
  extra: Partial<LockAdapter> = {},
): LockAdapter {
  return {
    name,
    keepalive: true,
    acquire: (key, { ttlMs, timeoutMs }) => locker.lock(key, { ttl: ttlMs, timeout: timeoutMs }),
    close: () => locker.close(),
    ...extra,
  };
}
