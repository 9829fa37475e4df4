import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocker, isLockError, type Locker, type LockHandle } from '@lock/core';
import { type RunningServer, randomKey, randomNamespace, serverAvailable } from '@lock/testkit';
import { Etcd3 } from 'etcd3';
import { EtcdBackend } from '../src/index.js';
import { ETCD, startEtcd } from './etcd-server.js';

const available = serverAvailable(ETCD);

(available ? describe : describe.skip)(
  'acquires and releases made in one tick share one transaction',
  () => {
    let server: RunningServer;
    const lockers: Locker[] = [];
    const locker = (prefix = `${randomNamespace()}/`) => {
      const created = createLocker(new EtcdBackend({ hosts: server.url, prefix }), {
        ttl: 10_000,
        onError: () => {},
      });
      lockers.push(created);
      return created;
    };

    beforeAll(async () => {
      server = await startEtcd();
    }, 30_000);
    afterEach(async () => {
      await Promise.all(lockers.splice(0).map((l) => l.close()));
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('50 locks taken in one tick commit in one transaction (one revision, so one fence) and release cleanly', async () => {
      const l = locker();
      await (await l.tryLock(randomKey())).release(); // lease granted
      const keys = Array.from({ length: 50 }, () => randomKey());
      const handles = await Promise.all(keys.map((key) => l.tryLock(key)));
      expect(handles.map((h) => h.key)).toEqual(keys);
      expect(new Set(handles.map((h) => h.fence)).size).toBe(1);
      await Promise.all(handles.map((h) => h.release()));
      for (const key of keys) expect(await l.inspect(key)).toBeUndefined();
    });

    it('50 lock() calls in one tick join their queues in one transaction too (one fence)', async () => {
      const l = locker();
      await (await l.lock(randomKey())).release(); // lease granted
      const keys = Array.from({ length: 50 }, () => randomKey());
      const handles = await Promise.all(keys.map((key) => l.lock(key)));
      expect(handles.map((h) => h.key)).toEqual(keys);
      expect(new Set(handles.map((h) => h.fence)).size).toBe(1);
      await Promise.all(handles.map((h) => h.release()));
      for (const key of keys) expect(await l.inspect(key)).toBeUndefined();
    });

    it('two contenders for one lock in one tick: exactly one wins (they never share a batch)', async () => {
      const prefix = `${randomNamespace()}/`;
      const a = locker(prefix);
      const b = locker(prefix);
      await Promise.all([
        (await a.tryLock(randomKey())).release(),
        (await b.tryLock(randomKey())).release(),
      ]);
      for (let round = 0; round < 10; round++) {
        const key = randomKey();
        const results = await Promise.allSettled([a.tryLock(key), b.tryLock(key), a.tryLock(key)]);
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(isLockError(r.reason, 'NOT_ACQUIRED')).toBe(true);
        }
        await (won[0] as PromiseFulfilledResult<LockHandle>).value.release();
      }
    });

    it('a release and a later acquire of the same lock in one tick keep their order, and fences grow', async () => {
      const l = locker();
      const key = randomKey();
      let previous = await l.tryLock(key);
      for (let round = 0; round < 5; round++) {
        const other = l.tryLock(randomKey()); // opens the tick's batch with another lock
        const released = previous.release();
        const next = l.tryLock(key);
        await released;
        const handle = await next;
        expect(handle.fence).toBeGreaterThan(previous.fence);
        await (await other).release();
        previous = handle;
      }
      await previous.release();
    });

    it("one locker's expired lease fails only its own call in a batch, not a batch-mate's", async () => {
      const prefix = `${randomNamespace()}/`;
      const shared = new EtcdBackend({ hosts: server.url, prefix });
      const a = createLocker(shared, { ttl: 3_000, identity: 'a', onError: () => {} });
      const b = createLocker(shared, { ttl: 3_000, identity: 'b', onError: () => {} });
      lockers.push(a, b);
      const raw = new Etcd3({ hosts: server.url });
      try {
        const aHeld = await a.tryLock(randomKey());
        const bHeld = await b.tryLock(randomKey());
        // Revoke a's lease behind its back (as if it expired during a long pause).
        const [entry] = await raw
          .getAll()
          .prefix(`${prefix}${encodeURIComponent(aHeld.key)}/`)
          .keys();
        const leaseHex = (entry as string).split('/').pop()?.split('-')[0] as string;
        await raw.leaseClient.leaseRevoke({ ID: BigInt(`0x${leaseHex}`).toString() });
        // In one tick: a's attempt (its lease is gone) and b's share a batch.
        const [aNext, bNext] = await Promise.all([a.tryLock(randomKey()), b.tryLock(randomKey())]);
        expect(aNext.fence).toBeGreaterThan(0);
        // b's lease was never dropped: its locks live through keepalive ticks.
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        expect(bHeld.signal.aborted).toBe(false);
        expect(bNext.signal.aborted).toBe(false);
        await Promise.all([bHeld.release(), bNext.release(), aNext.release()]);
      } finally {
        raw.close();
      }
    });
  },
);
