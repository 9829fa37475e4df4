import { createLocker, type LockHandle } from '@lock/core';
import { randomNamespace, sleep } from '@lock/testkit';
import { describeDynamo, describeFirestore, describeMongo } from './servers.js';
import { type Store, startStore } from './stores.js';

const LOCKS = 150;
// Long enough for a tick's batch to finish on a loaded 2-core machine (core gives a renewal until
// the next tick, a third of the TTL); the test is about batching, not speed.
const TTL = 4_000;

const suites: [Store['name'], typeof describe][] = [
  ['mongodb', describeMongo],
  ['dynamodb', describeDynamo],
  ['firestore', describeFirestore],
];

for (const [name, describeStore] of suites) {
  describeStore(`keepalive of many locks on ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await startStore(name);
    }, 90_000);
    afterAll(async () => {
      await store?.stop();
    });

    it(`${LOCKS} held locks are renewed in batches and all stay held across several TTLs`, async () => {
      const backend = store.backend(`${randomNamespace()}:`, { operationTimeout: 10_000 });
      const calls = { updateMany: 0, updated: 0 };
      const collection = backend.collection;
      const updateMany = collection.updateMany?.bind(collection);
      if (updateMany !== undefined) {
        (collection as { updateMany: typeof updateMany }).updateMany = (requests) => {
          calls.updateMany += 1;
          calls.updated += requests.length;
          return updateMany(requests);
        };
      }
      const locker = createLocker(backend, { ttl: TTL, onError: () => {} });
      try {
        const locks: LockHandle[] = [];
        for (let i = 0; i < LOCKS; i += 50) {
          locks.push(
            ...(await Promise.all(
              Array.from({ length: 50 }, (_, j) => locker.tryLock(`many-${i + j}`)),
            )),
          );
        }
        await sleep(TTL * 2.2);
        expect(
          locks
            .filter((lock) => !lock.held)
            .map((lock) => String((lock.signal.reason as Error)?.message)),
        ).toEqual([]);
        expect(calls.updateMany).toBeGreaterThan(0);
        // Each tick renews every lock in one batched call (chunked inside by the store's limit).
        expect(calls.updated / calls.updateMany).toBeGreaterThan(LOCKS / 2);
      } finally {
        await locker.close();
      }
    }, 60_000);
  });
}
