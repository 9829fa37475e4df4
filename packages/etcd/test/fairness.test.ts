import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocker, type Locker } from '@lock/core';
import { type RunningServer, randomKey, randomNamespace, serverAvailable } from '@lock/testkit';
import { Etcd3 } from 'etcd3';
import { EtcdBackend } from '../src/index.js';
import { ETCD, startEtcd } from './etcd-server.js';

const available = serverAvailable(ETCD);

(available ? describe : describe.skip)('etcd fair queue', () => {
  let server: RunningServer;
  let raw: Etcd3;
  const lockers: Locker[] = [];

  beforeAll(async () => {
    server = await startEtcd();
    raw = new Etcd3({ hosts: server.url });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(lockers.map((l) => l.close()));
    raw?.close();
    await server?.stop();
  });

  it('20 waiters queued in a known order acquire in that order', async () => {
    const prefix = `${randomNamespace()}/`;
    for (let i = 0; i < 4; i++) {
      lockers.push(
        createLocker(new EtcdBackend({ hosts: server.url, prefix }), {
          ttl: 10_000,
          identity: `locker-${i}`,
          onError: () => {},
        }),
      );
    }
    const key = randomKey();
    const folder = `${prefix}${encodeURIComponent(key)}/`;
    const entries = () => raw.getAll().prefix(folder).count();
    const holder = await (lockers[0] as Locker).tryLock(key);
    const order: number[] = [];
    const done: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      done.push(
        (lockers[i % 4] as Locker).withLock(
          key,
          async () => {
            order.push(i);
          },
          { timeout: 60_000 },
        ),
      );
      // Queue position is the entry's create revision: wait until this waiter's entry exists.
      const deadline = Date.now() + 10_000;
      while ((await entries()) < i + 2) {
        if (Date.now() > deadline) throw new Error(`waiter ${i} never queued`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    await holder.release();
    await Promise.all(done);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await entries()).toBe(0);
  }, 60_000);

  it('a waiter that gives up leaves the queue, and the one behind it moves up', async () => {
    const prefix = `${randomNamespace()}/`;
    const backend = () => new EtcdBackend({ hosts: server.url, prefix });
    const [a, b, c] = [0, 1, 2].map((i) => {
      const l = createLocker(backend(), { ttl: 10_000, identity: `q-${i}`, onError: () => {} });
      lockers.push(l);
      return l;
    }) as [Locker, Locker, Locker];
    const key = randomKey();
    const folder = `${prefix}${encodeURIComponent(key)}/`;
    const held = await a.tryLock(key);
    const giveUp = new AbortController();
    const quitter = b.lock(key, { signal: giveUp.signal }).catch((e: unknown) => e);
    while ((await raw.getAll().prefix(folder).count()) < 2) await sleep(5);
    const patient = c.lock(key, { timeout: 20_000 });
    while ((await raw.getAll().prefix(folder).count()) < 3) await sleep(5);
    giveUp.abort(new Error('gave up'));
    expect(await quitter).toMatchObject({ code: 'ABORTED' });
    await held.release();
    const next = await patient;
    expect(next.identity).toBe('q-2');
    expect(next.fence).toBeGreaterThan(held.fence);
    await next.release();
  }, 30_000);
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
