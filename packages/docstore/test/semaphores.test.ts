import { createLocker, type Locker, type LockerOptions } from '@lock/core';
import { randomKey } from '@lock/testkit';
import { DocstoreBackend, type LeaseCollection } from '../src/index.js';
import { describeDynamo, describeFirestore, describeMongo } from './servers.js';
import { type Store, startStore } from './stores.js';

/** `inner` with some methods replaced (bound copies: collections keep state in private fields). */
function wrapCollection(
  inner: LeaseCollection,
  overrides: Partial<Pick<LeaseCollection, 'get' | 'create' | 'update'>>,
): LeaseCollection {
  return {
    name: inner.name,
    maxIdBytes: inner.maxIdBytes,
    ...(inner.unsafeId === undefined ? {} : { unsafeId: inner.unsafeId.bind(inner) }),
    get: inner.get.bind(inner),
    create: inner.create.bind(inner),
    update: inner.update.bind(inner),
    delete: inner.delete.bind(inner),
    ...(inner.watch === undefined ? {} : { watch: inner.watch.bind(inner) }),
    close: async () => {},
    ...overrides,
  };
}

/** Counts the requests a collection is sent, by method. */
class CountingCollection {
  readonly counts = { get: 0, create: 0, update: 0 };

  /** `inner` with every get, create and update counted (and the rest passed through). */
  wrap(inner: LeaseCollection): LeaseCollection {
    const counts = this.counts;
    return wrapCollection(inner, {
      get: (id: string) => {
        counts.get += 1;
        return inner.get(id);
      },
      create: (...args: Parameters<LeaseCollection['create']>) => {
        counts.create += 1;
        return inner.create(...args);
      },
      update: (...args: Parameters<LeaseCollection['update']>) => {
        counts.update += 1;
        return inner.update(...args);
      },
    });
  }
}

/** `inner`, except that every update lands and is then sent again (a driver replaying it). */
function replayingUpdates(inner: LeaseCollection): LeaseCollection {
  return wrapCollection(inner, {
    update: async (...args: Parameters<LeaseCollection['update']>) => {
      const first = await inner.update(...args);
      expect(first.updated).toBe(true);
      // The reply of the first was lost; the replay's condition fails on the version it wrote.
      return inner.update(...args);
    },
  });
}

const suites: [Store['name'], typeof describe][] = [
  ['mongodb', describeMongo],
  ['dynamodb', describeDynamo],
  ['firestore', describeFirestore],
];

for (const [name, describeStore] of suites) {
  describeStore(`semaphores on ${name}`, () => {
    let store: Store;
    const lockers: Locker[] = [];
    beforeAll(async () => {
      store = await startStore(name);
    }, 90_000);
    afterEach(async () => {
      await Promise.all(lockers.splice(0).map((locker) => locker.close()));
    });
    afterAll(async () => {
      await store?.stop();
    }, 90_000);

    const lockerOn = (collection: LeaseCollection, options?: LockerOptions): Locker => {
      const locker = createLocker(new DocstoreBackend(collection), { ttl: 30_000, ...options });
      lockers.push(locker);
      return locker;
    };

    it('an uncontended acquire+release costs one conditional write each once the record is known', async () => {
      const counting = new CountingCollection();
      const semaphore = lockerOn(counting.wrap(store.collection())).semaphore(randomKey('sem'), {
        permits: 3,
      });
      const pairs = 5;
      const fences: number[] = [];
      for (let i = 0; i < pairs; i++) {
        const permit = await semaphore.acquire();
        fences.push(permit.fence);
        await permit.release();
      }
      // The first acquire reads the (missing) record and creates it; every other call is one
      // update on the version this process wrote last.
      expect(counting.counts).toEqual({ get: 1, create: 1, update: 2 * pairs - 1 });
      // A new record's counter starts at the wall clock in µs; each grant counts one more.
      expect(fences).toEqual([0, 1, 2, 3, 4].map((i) => (fences[0] as number) + i));
    });

    it('a denial decided on a remembered record is made again on a fresh read', async () => {
      const collection = store.collection();
      const key = randomKey('sem');
      const a = lockerOn(collection).semaphore(key, { permits: 1 });
      const b = lockerOn(collection).semaphore(key, { permits: 1 });
      const held = await b.tryAcquire();
      await expect(a.tryAcquire()).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
      await held.release();
      // `a` last saw the record with `b` holding its only permit: that must not deny it now.
      const permit = await a.tryAcquire();
      expect(permit.fence).toBe(held.fence + 1);
      await permit.release();
    });

    it('a write replayed by the driver after it landed counts as done (release ok, acquire once)', async () => {
      const collection = store.collection();
      const key = randomKey('sem');
      const backend = new DocstoreBackend(replayingUpdates(collection));
      const plain = new DocstoreBackend(collection);
      try {
        const request = { key, mode: 'permit', count: 1, permits: 2, ttlMs: 30_000 } as const;
        // The record is created by another backend, so every write below is an update.
        const first = await plain.semaphoreAcquire({ ...request, owner: 'other.1', wait: false });
        const firstFence = (first as { fence: number }).fence;
        const granted = await backend.semaphoreAcquire({ ...request, owner: 'me.1', wait: false });
        expect(granted).toEqual({ acquired: true, fence: firstFence + 1 });
        expect((await plain.semaphoreInspect(key))?.holders.map((h) => h.owner)).toEqual([
          'other.1',
          'me.1',
        ]);
        expect(await backend.semaphoreRelease({ key, owner: 'me.1' })).toBe('ok');
        expect((await plain.semaphoreInspect(key))?.holders.map((h) => h.owner)).toEqual([
          'other.1',
        ]);
      } finally {
        await backend.close();
        await plain.close();
      }
    });

    it('a write answered with an error is checked by a read: landed is done, not landed is tried again', async () => {
      const collection = store.collection();
      const key = randomKey('sem');
      let failNext: 'after landing' | 'before landing' | undefined;
      const failing = wrapCollection(collection, {
        update: async (...args: Parameters<LeaseCollection['update']>) => {
          const how = failNext;
          failNext = undefined;
          if (how === 'before landing') throw new Error('2 UNKNOWN (injected)');
          const result = await collection.update(...args);
          if (how === 'after landing') throw new Error('2 UNKNOWN (injected)');
          return result;
        },
      });
      const backend = new DocstoreBackend(failing);
      try {
        const request = { key, mode: 'permit', count: 1, permits: 2, ttlMs: 30_000 } as const;
        const first = await backend.semaphoreAcquire({ ...request, owner: 'a.1', wait: false });
        const firstFence = (first as { fence: number }).fence;
        failNext = 'after landing';
        expect(await backend.semaphoreAcquire({ ...request, owner: 'b.1', wait: false })).toEqual({
          acquired: true,
          fence: firstFence + 1,
        });
        failNext = 'before landing';
        expect(await backend.semaphoreRelease({ key, owner: 'a.1' })).toBe('ok');
        failNext = 'after landing';
        expect(await backend.semaphoreRelease({ key, owner: 'b.1' })).toBe('ok');
        expect(await backend.semaphoreInspect(key)).toBeUndefined();
      } finally {
        await backend.close();
      }
    });

    it('a semaphore record is apart from the lock of the same key, and outlives its holders', async () => {
      const collection = store.collection();
      const key = randomKey('both');
      const locker = lockerOn(collection);
      const lock = await locker.lock(key);
      const permit = await locker.semaphore(key, { permits: 1 }).tryAcquire();
      expect(lock.held && permit.held).toBe(true);
      await permit.release();
      await lock.release();
      const again = await locker.semaphore(key, { permits: 1 }).tryAcquire();
      expect(again.fence).toBe(permit.fence + 1);
      await again.release();
    });
  });
}

describeFirestore('semaphore waiters on firestore', () => {
  let store: Store;
  beforeAll(async () => {
    store = await startStore('firestore');
  }, 90_000);
  afterAll(async () => {
    await store?.stop();
  }, 90_000);

  it('are woken by the snapshot listener when permits are freed, not by a poll', async () => {
    const collection = store.collection();
    const key = randomKey('sem');
    // No poll for 20 s (ttl / 3 included): only a notification can end the wait sooner.
    const options = { ttl: 60_000, retry: { pollInterval: 20_000 } };
    const holder = createLocker(new DocstoreBackend(collection), options);
    const waiter = createLocker(new DocstoreBackend(collection), options);
    try {
      const held = await holder.semaphore(key, { permits: 1 }).acquire();
      // The waiter's process has not used this key before: its listener starts with the wait.
      const waiting = waiter.semaphore(key, { permits: 1 }).acquire({ timeout: 15_000 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const released = performance.now();
      await held.release();
      const permit = await waiting;
      expect(performance.now() - released).toBeLessThan(5_000);
      await permit.release();
    } finally {
      await Promise.all([holder.close(), waiter.close()]);
    }
  }, 30_000);
});
