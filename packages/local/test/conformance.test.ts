import type { LockBackend } from '@lock/core';
import { systemClock } from '@lock/core';
import { runConformanceSuite } from '@lock/testkit';
import { LocalBackend, LocalStore } from '../src/index.js';

const stores = new Map<string, LocalStore>();
const storeOf = (namespace: string) => {
  let store = stores.get(namespace);
  if (store === undefined) {
    store = new LocalStore(systemClock);
    stores.set(namespace, store);
  }
  return store;
};

runConformanceSuite({
  name: 'local',
  createBackend: async (namespace) => new LocalBackend({ store: storeOf(namespace) }),
  forceDelete: async (namespace, key) => storeOf(namespace).forceDelete(key),
  // In-process: there is no server to be unreachable. A closed backend is the nearest thing,
  // and it must fail fast too (with a CLOSED error rather than BACKEND).
  createUnreachableBackend: async (): Promise<LockBackend> => {
    const backend = new LocalBackend();
    await backend.close();
    return backend;
  },
  capabilities: { minTtlMs: 200, expirySlackMs: 5, semaphores: true },
});
