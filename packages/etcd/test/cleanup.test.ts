import { describe, expect, it } from '@jest/globals';
import { isLockError, type Locker, type LockHandle } from '@lock/core';
import { randomKey, serverAvailable, sleep } from '@lock/testkit';
import type { EtcdBackend } from '../src/index.js';
import { delayNextTxn } from './driver-delays.js';
import { ETCD, etcdForTests } from './etcd-server.js';
import { proxiedLockers } from './proxied-lockers.js';

const available = serverAvailable(ETCD);

/**
 * An entry this backend could not delete, or whose write it could not confirm, must not outlive
 * its lock's TTL just because the locker's other locks keep their shared lease alive.
 */
(available ? describe : describe.skip)('etcd entries left behind by failed calls', () => {
  const etcd = etcdForTests();
  const fixture = proxiedLockers(etcd);
  /** `one` reaches etcd through the fault proxy; rivals connect directly. */
  const open = (identity: string, ttl: number, through: 'proxy' | 'direct') =>
    fixture.open(identity, { through, ttl, requestTimeoutMs: 500 });
  /** Tries `key` every 100 ms for up to `ms`; the handle, or undefined if it stayed held. */
  const takeWithin = async (locker: Locker, key: string, ms: number) => {
    const deadline = performance.now() + ms;
    for (;;) {
      try {
        return await locker.tryLock(key);
      } catch (error) {
        if (!isLockError(error, 'NOT_ACQUIRED') || performance.now() > deadline) return undefined;
        await sleep(100);
      }
    }
  };

  /** Refuses every connection of `one` for `ms` (calls fail fast), then lets it through again. */
  async function outage(ms: number, during: () => Promise<void>): Promise<void> {
    await fixture.proxy.set({ kind: 'refuse' });
    await during();
    await sleep(ms);
    await fixture.proxy.set({ kind: 'pass' });
  }

  it('a release that fails during an outage is completed once etcd is back, while the lease lives on', async () => {
    const one = open('one', 6_000, 'proxy');
    const rival = open('rival', 6_000, 'direct');
    const key = randomKey();
    const held = await one.tryLock(key);
    const other = await one.tryLock(randomKey()); // keeps the shared lease renewed
    await outage(2_500, async () => {
      expect(isLockError(await held.release().catch((e: unknown) => e), 'BACKEND')).toBe(true);
    });
    const next = await takeWithin(rival, key, 6_000);
    expect(next).toBeDefined();
    expect(other.held).toBe(true); // the lease lived on: only the failed release was made good
    await next?.release();
  }, 30_000);

  it('a waiter aborted during an outage leaves the queue once etcd is back', async () => {
    const one = open('one', 6_000, 'proxy');
    const holder = open('holder', 6_000, 'direct');
    const rival = open('rival', 6_000, 'direct');
    const key = randomKey();
    const held = await holder.tryLock(key);
    const other = await one.tryLock(randomKey()); // keeps the shared lease renewed
    const giveUp = new AbortController();
    const waiting = one.lock(key, { signal: giveUp.signal }).catch((e: unknown) => e);
    await sleep(300); // queued behind the holder
    await outage(2_500, async () => {
      giveUp.abort(new Error('gave up'));
      expect(isLockError(await waiting, 'ABORTED')).toBe(true);
    });
    await held.release();
    const next = await rival.lock(key, { timeout: 6_000 }).catch((e: unknown) => e);
    expect(next).toMatchObject({ identity: 'rival' });
    expect(other.held).toBe(true);
    await (next as LockHandle).release();
  }, 30_000);

  it('an acquire whose write lands after the backend gave up on it does not block the key', async () => {
    const one = open('one', 3_000, 'proxy');
    const rival = open('rival', 3_000, 'direct');
    const key = randomKey();
    const other = await one.tryLock(randomKey()); // keeps the shared lease renewed
    // The acquire's transaction leaves 1.5 s late, long after the 0.5 s deadline gave up on it
    // and the clean-up found nothing to delete: it lands on the shared lease.
    void delayNextTxn((one.backend as EtcdBackend).client, { sendAfterMs: 1_500 });
    const error = await one.tryLock(key).catch((e: unknown) => e);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    await sleep(2_000); // it has landed (or been refused) by now
    const next = await takeWithin(rival, key, 9_000);
    expect(next).toBeDefined();
    expect(other.held).toBe(true);
    expect((await rival.inspect(other.key))?.fence).toBe(other.fence);
    await next?.release();
  }, 30_000);
});
