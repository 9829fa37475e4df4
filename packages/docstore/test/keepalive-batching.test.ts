import { randomBytes } from 'node:crypto';
import { createLocker, type LockHandle } from '@lock/core';
import { randomKey, randomNamespace, sleep } from '@lock/testkit';
import { describeDynamo, describeFirestore, describeMongo } from './servers.js';
import { type Store, startStore } from './stores.js';

const LOCKS = 150;
// Long enough for a tick's batch to finish on a loaded 2-core machine: core renews every third of
// the TTL, and 150 conditional updates on FerretDB (SQLite, one write at a time) took 0.7 to 2.6 s
// at load 8 to 12 here, so with a 4 s TTL a batch could outlast its tick. The test is about
// batching, not speed (the benchmark measures that).
const TTL = 8_000;

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

    it('a renewal that overlaps the previous one of the same locks waits for it instead of failing its conditions', async () => {
      // What a batch that outlives its keepalive tick leads to: core gives up waiting and sends
      // the next tick's renewal while the first is still in flight.
      const backend = store.backend(`${randomNamespace()}:`, { operationTimeout: 10_000 });
      const collection = backend.collection;
      const failed = { conditions: 0 };
      const count = (results: readonly { updated: boolean }[]) => {
        failed.conditions += results.filter((result) => !result.updated).length;
      };
      const update = collection.update.bind(collection);
      (collection as { update: typeof update }).update = async (...args) => {
        const result = await update(...args);
        count([result]);
        return result;
      };
      const updateMany = collection.updateMany?.bind(collection);
      if (updateMany !== undefined) {
        (collection as { updateMany: typeof updateMany }).updateMany = async (requests) => {
          const results = await updateMany(requests);
          count(results);
          return results;
        };
      }
      try {
        const owner = randomBytes(16).toString('base64url');
        const keys = Array.from({ length: 20 }, () => randomKey());
        for (const key of keys) {
          await expect(backend.acquire({ key, owner, ttlMs: 10_000 })).resolves.toMatchObject({
            acquired: true,
          });
        }
        const renewals = keys.map((key) => ({ key, owner, ttlMs: 10_000 }));
        const [first, second] = await Promise.all([
          backend.extendMany(renewals),
          backend.extendMany(renewals),
        ]);
        expect([...first, ...second].filter((result) => result !== 'ok')).toEqual([]);
        expect(failed.conditions).toBe(0);
        await expect(backend.release({ key: keys[0] as string, owner })).resolves.toBe('ok');
      } finally {
        await backend.close();
      }
    }, 60_000);
  });
}
