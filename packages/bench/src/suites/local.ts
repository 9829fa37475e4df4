import { createLocker } from '@lock/core';
import { LocalBackend } from '@lock/local';
import AsyncLock from 'async-lock';
import { Mutex } from 'async-mutex';
import type { LockAdapter, Suite } from '../adapter.js';
import { ourAdapter } from '../adapters/ours.js';

/**
 * In-process locks: @lock/local against the two in-process mutexes most used on npm. Neither
 * peer has TTLs, fencing or loss signals; they are the speed floor for an in-process lock.
 */
export async function localSuite(): Promise<Suite> {
  return {
    name: 'local',
    processLocal: true,
    notes: ['peers have no TTL, keepalive or fencing: they are the in-process floor'],
    adapters: [
      ourAdapter('@lock/local', createLocker(new LocalBackend())),
      asyncMutexAdapter(),
      asyncLockAdapter(),
    ],
    teardown: async () => {},
  };
}

function asyncMutexAdapter(): LockAdapter {
  const mutexes = new Map<string, Mutex>();
  return {
    name: 'async-mutex 0.5.0 (Mutex per key)',
    keepalive: false,
    acquire: async (key) => {
      let mutex = mutexes.get(key);
      if (mutex === undefined) {
        mutex = new Mutex();
        mutexes.set(key, mutex);
      }
      const release = await mutex.acquire();
      return { release: async () => release() };
    },
    close: async () => mutexes.clear(),
  };
}

function asyncLockAdapter(): LockAdapter {
  const lock = new AsyncLock({ maxPending: Number.POSITIVE_INFINITY });
  return {
    name: 'async-lock 1.5.0',
    keepalive: false,
    acquire: (key) =>
      new Promise((resolve, reject) => {
        lock.acquire(key, (done) => resolve({ release: async () => done() })).catch(reject);
      }),
    close: async () => {},
  };
}
