import type { LockBackend } from '@lock/core';
import { FlawedBackend } from '../variants/backend-flaws.js';
import { MiniLocker } from '../variants/mini-locker.js';
import type { LockClient } from './client.js';
import { CoreClient } from './core-client.js';
import type { ClientConfig } from './protocol.js';

/**
 * The library under test over `backend`: `@lock/core`, or the small client of `variants/`
 * with its flaws, optionally over a flawed wrapper of the backend.
 */
export function buildClient(
  backend: LockBackend,
  config: ClientConfig,
  options: {
    identity: string;
    ttlMs: number;
    opBoundMs: number;
    onError: (error: unknown) => void;
  },
): LockClient {
  const wrappers = config.wrappers.filter((flaw) => flaw !== 'unconditional-delete');
  const store = wrappers.length === 0 ? backend : new FlawedBackend(backend, wrappers);
  if (config.kind === 'core') {
    return new CoreClient(store, {
      identity: options.identity,
      ttlMs: options.ttlMs,
      pollIntervalMs: config.pollIntervalMs,
      onError: options.onError,
    });
  }
  return new MiniLocker(store, {
    identity: options.identity,
    callDeadlineMs: options.opBoundMs,
    flaws: config.flaws,
  });
}
