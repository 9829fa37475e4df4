/**
 * Uncontended acquire+release of one semaphore permit against the mutex of the same backend, in
 * the same run, on each test server: pairs per second and store requests per pair. The README's
 * numbers come from here. Run from packages/docstore:
 *
 *     node --conditions=source --import tsx scripts/measure-semaphores.ts [mongodb|dynamodb|firestore …]
 *
 * Rounds of 1 s alternate between the two (mutex, semaphore, mutex, …) so that load from other
 * work on the machine falls on both alike.
 */
import { createLocker, type Locker } from '@lock/core';
import { randomKey } from '@lock/testkit';
import { DocstoreBackend, type LeaseCollection } from '../src/index.js';
import { type Store, startStore } from '../test/stores.js';

const ROUNDS = 6;
const ROUND_MS = 1_000;

/** `inner`, counting every request sent to the store. */
function counted(inner: LeaseCollection, count: { requests: number }): LeaseCollection {
  const tally =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      count.requests += 1;
      return call(...args);
    };
  return {
    name: inner.name,
    maxIdBytes: inner.maxIdBytes,
    ...(inner.unsafeId === undefined ? {} : { unsafeId: inner.unsafeId.bind(inner) }),
    get: tally(inner.get.bind(inner)),
    create: tally(inner.create.bind(inner)),
    update: tally(inner.update.bind(inner)),
    delete: tally(inner.delete.bind(inner)),
    close: async () => {},
  };
}

async function measure(name: Store['name']): Promise<void> {
  const store = await startStore(name);
  const count = { requests: 0 };
  const locker: Locker = createLocker(new DocstoreBackend(counted(store.collection(), count)), {
    ttl: 30_000,
  });
  const lockKey = randomKey('mutex');
  const semaphore = locker.semaphore(randomKey('sem'), { permits: 3 });
  const pairs = {
    mutex: async () => (await locker.lock(lockKey)).release(),
    semaphore: async () => (await semaphore.acquire()).release(),
  };
  const totals = {
    mutex: { pairs: 0, ms: 0, requests: 0 },
    semaphore: { pairs: 0, ms: 0, requests: 0 },
  };
  for (const pair of Object.values(pairs)) for (let i = 0; i < 50; i++) await pair(); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['mutex', 'semaphore'] as const) {
      const requestsBefore = count.requests;
      const started = performance.now();
      let done = 0;
      while (performance.now() - started < ROUND_MS) {
        await pairs[kind]();
        done += 1;
      }
      totals[kind].ms += performance.now() - started;
      totals[kind].pairs += done;
      totals[kind].requests += count.requests - requestsBefore;
    }
  }
  await locker.close();
  await store.stop();
  const rate = (kind: 'mutex' | 'semaphore') => (totals[kind].pairs * 1000) / totals[kind].ms;
  const perPair = (kind: 'mutex' | 'semaphore') => totals[kind].requests / totals[kind].pairs;
  console.log(
    `${name}: mutex ${rate('mutex').toFixed(0)} pairs/s (${perPair('mutex').toFixed(2)} requests/pair), ` +
      `semaphore ${rate('semaphore').toFixed(0)} pairs/s (${perPair('semaphore').toFixed(2)} requests/pair), ` +
      `ratio ${(rate('semaphore') / rate('mutex')).toFixed(2)}×`,
  );
}

const names = process.argv.slice(2) as Store['name'][];
for (const name of names.length > 0 ? names : (['mongodb', 'dynamodb', 'firestore'] as const)) {
  await measure(name);
}
