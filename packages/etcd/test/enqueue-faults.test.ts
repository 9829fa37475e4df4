import { describe, expect, it } from '@jest/globals';
import { isLockError, type LockHandle } from '@lock/core';
import { randomKey, serverAvailable, sleep } from '@lock/testkit';
import type { ITxnRequest } from 'etcd3';
import type { EtcdBackend } from '../src/index.js';
import { aroundNextTxn } from './driver-delays.js';
import { ETCD, etcdForTests } from './etcd-server.js';
import { proxiedLockers } from './proxied-lockers.js';

const available = serverAvailable(ETCD);

/** The queue's enqueue: a put of the waiter's entry, read together with the entries ahead. */
const isEnqueue = (request: ITxnRequest) =>
  (request.success ?? []).some((op) => op.request_put !== undefined) &&
  (request.success ?? []).some((op) => op.request_range !== undefined);

/**
 * A waiter's enqueue is its place in line. When its reply is lost, the entry may be there or
 * not: the outcome is unknown, not failed, and a blip of the connection must not fail a `lock()`
 * that has seconds left, nor leave a second entry, nor lose the place.
 */
(available ? describe : describe.skip)('etcd enqueue whose reply was lost', () => {
  const etcd = etcdForTests();
  const fixture = proxiedLockers(etcd);
  const open = (identity: string, through: 'proxy' | 'direct', requestTimeoutMs = 5_000) =>
    fixture.open(identity, { through, ttl: 10_000, requestTimeoutMs });
  const entriesOf = (key: string) =>
    etcd.raw
      .getAll()
      .prefix(`${fixture.prefix}${encodeURIComponent(key)}/`)
      .count();

  it('a waiter whose enqueue landed but whose reply was lost keeps its place and takes the lock on release', async () => {
    const holder = open('holder', 'direct');
    const waiter = open('waiter', 'proxy');
    const key = randomKey();
    const held = await holder.tryLock(key);
    await waiter.inspect(key); // connected through the proxy
    // The enqueue reaches etcd; its reply is dropped, then the connection is reset under it and
    // refused for a moment (gRPC then answers UNAVAILABLE until its channel reconnects).
    aroundNextTxn((waiter.backend as EtcdBackend).client, isEnqueue, async (send) => {
      await fixture.proxy.set({ kind: 'drop-replies' });
      const reply = send();
      while ((await entriesOf(key)) < 2) await sleep(10);
      await fixture.proxy.set({ kind: 'refuse' });
      setTimeout(() => void fixture.proxy.set({ kind: 'pass' }), 300);
      return reply;
    });
    const waiting = waiter.lock(key, { timeout: 20_000 });
    while ((await entriesOf(key)) < 2) await sleep(10);
    await sleep(2_500); // the reset happened, the channel came back
    expect(await entriesOf(key)).toBe(2); // one place in line, not two
    const releasedAt = performance.now();
    await held.release();
    const next: LockHandle = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(3_000);
    expect(next.fence).toBeGreaterThan(held.fence);
    await next.release();
    expect(await entriesOf(key)).toBe(0);
  }, 30_000);

  it('a waiter whose etcd stays unreachable after a lost enqueue reply fails within the request timeout, leaving nothing behind', async () => {
    const holder = open('holder', 'direct');
    const waiter = open('waiter', 'proxy', 500);
    const key = randomKey();
    const held = await holder.tryLock(key);
    await waiter.inspect(key);
    let lostAt = 0;
    aroundNextTxn((waiter.backend as EtcdBackend).client, isEnqueue, async (send) => {
      await fixture.proxy.set({ kind: 'drop-replies' });
      const reply = send();
      while ((await entriesOf(key)) < 2) await sleep(10);
      lostAt = performance.now();
      await fixture.proxy.set({ kind: 'refuse' });
      return reply;
    });
    const error = await waiter.lock(key, { timeout: 20_000 }).catch((e: unknown) => e);
    // Within the request timeout (0.5 s) plus the driver's own deadline and a margin: not the
    // lock()'s 20 s.
    expect(performance.now() - lostAt).toBeLessThan(3_000);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    expect((error as Error).cause).toBeDefined();
    await fixture.proxy.set({ kind: 'pass' });
    // The entry that landed is taken back once etcd is reachable again, so the holder's release
    // hands the lock to nobody and a rival takes it at once.
    await held.release();
    const deadline = performance.now() + 8_000;
    while ((await entriesOf(key)) > 0 && performance.now() < deadline) await sleep(50);
    expect(await entriesOf(key)).toBe(0);
  }, 30_000);
});
