import { randomBytes } from 'node:crypto';
import { createLocker, isLockError } from '@lock/core';
import { randomKey, randomNamespace, sleep } from '@lock/testkit';
import { describeDynamo, describeFirestore, describeMongo } from './servers.js';
import { type Store, startStore } from './stores.js';

const TTL = 1_000;

const suites: [Store['name'], typeof describe][] = [
  ['mongodb', describeMongo],
  ['dynamodb', describeDynamo],
  ['firestore', describeFirestore],
];

for (const [name, describeStore] of suites) {
  describeStore(`a holder that vanishes, on ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await startStore(name);
    }, 90_000);
    afterAll(async () => {
      await store?.stop();
    });

    it('a waiter takes over after the lease and not before, and the vanished holder’s late writes are refused', async () => {
      const prefix = `${randomNamespace()}:`;
      // The holder takes the lock with the backend itself, not through a locker: a locker's loss
      // timer would release the lock (owner-checked) up to its lead before the lease ends, a
      // live holder's early handover, and the waiter could then take over before the lease is
      // over. A vanished holder sends nothing more; only the store's takeover rule is checked.
      const holderBackend = store.backend(prefix);
      const waiter = createLocker(store.backend(prefix), { onError: () => {} });
      try {
        const key = randomKey();
        const owner = randomBytes(16).toString('base64url');
        const sentAt = performance.now();
        const held = await holderBackend.acquire({ key, owner, ttlMs: TTL });
        if (!held.acquired) throw new Error(`the holder did not get ${key}`);
        // The holder now stops renewing (a crash, a long pause). Until its lease is over by any
        // clock, every try is refused.
        let lastRefusal = 0;
        while (performance.now() - sentAt < TTL - 150) {
          const triedAt = performance.now();
          const error = await waiter.tryLock(key).catch((e: unknown) => e);
          expect(isLockError(error, 'NOT_ACQUIRED')).toBe(true);
          lastRefusal = triedAt - sentAt;
          await sleep(50);
        }
        // The last refused try was sent late in the lease (the test checked the window).
        expect(lastRefusal).toBeGreaterThan(TTL - 400);
        const next = await waiter.lock(key, { timeout: 10_000 });
        expect(performance.now() - sentAt).toBeGreaterThanOrEqual(TTL);
        expect(next.fence).toBeGreaterThan(held.fence);
        // The vanished holder comes back and writes with what it knew: refused, not applied.
        await expect(holderBackend.extend({ key, owner, ttlMs: TTL })).resolves.toBe('forbidden');
        await expect(holderBackend.release({ key, owner })).resolves.toBe('forbidden');
        expect((await waiter.inspect(key))?.holder).toBe(waiter.identity);
        expect(next.held).toBe(true);
        await next.release();
      } finally {
        await Promise.all([holderBackend.close(), waiter.close()]);
      }
    }, 30_000);

    it('a holder that renews in time keeps its lock against a waiter counting its lease', async () => {
      const prefix = `${randomNamespace()}:`;
      const holder = createLocker(store.backend(prefix), { ttl: TTL, onError: () => {} });
      const waiter = createLocker(store.backend(prefix), { onError: () => {} });
      try {
        const key = randomKey();
        const held = await holder.tryLock(key);
        const error = await waiter.lock(key, { timeout: TTL * 3 }).catch((e: unknown) => e);
        expect(isLockError(error, 'TIMEOUT')).toBe(true);
        expect(held.held).toBe(true);
        expect((await waiter.inspect(key))?.holder).toBe(holder.identity);
        await held.release();
      } finally {
        await Promise.all([holder.close(), waiter.close()]);
      }
    }, 30_000);
  });
}
