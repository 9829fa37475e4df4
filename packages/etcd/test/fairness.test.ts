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
  /** A locker whose waiters poll once a minute: only watch events move them within a test. */
  const patientLocker = (prefix: string, identity: string) => {
    const l = createLocker(
      new EtcdBackend({ hosts: server.url, prefix, queuePollIntervalMs: 60_000 }),
      { ttl: 10_000, identity, onError: () => {} },
    );
    lockers.push(l);
    return l;
  };

  // A minute's poll: only watch events can move these queues along within the test's time.
  // 70 waiters: more are ahead of the last ones than a waiter tracks (64), so they read again.
  it.each([20, 70])(
    '%i waiters queued in a known order acquire in that order, woken by the watch',
    async (count) => {
      const prefix = `${randomNamespace()}/`;
      const mine: Locker[] = [];
      for (let i = 0; i < 4; i++) {
        mine.push(
          createLocker(
            new EtcdBackend({ hosts: server.url, prefix, queuePollIntervalMs: 60_000 }),
            {
              ttl: 10_000,
              identity: `locker-${i}`,
              onError: () => {},
            },
          ),
        );
      }
      lockers.push(...mine);
      const key = randomKey();
      const folder = `${prefix}${encodeURIComponent(key)}/`;
      const entries = () => raw.getAll().prefix(folder).count();
      const holder = await (mine[0] as Locker).tryLock(key);
      const order: number[] = [];
      const done: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        done.push(
          (mine[i % 4] as Locker).withLock(
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
      expect(order).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(await entries()).toBe(0);
    },
    60_000,
  );

  it('a waiter with more ahead than it tracks is not granted when only the tracked ones leave', async () => {
    const prefix = `${randomNamespace()}/`;
    const open = (identity: string) => patientLocker(prefix, identity);
    const [holding, quitting, patient] = [open('holder'), open('quitter'), open('patient')];
    const key = randomKey();
    const folder = `${prefix}${encodeURIComponent(key)}/`;
    const count = () => raw.getAll().prefix(folder).count();
    const held = await holding.tryLock(key);
    // 65 quitters: the patient waiter tracks the 64 nearest, so the oldest one and the holder
    // are beyond what it tracks.
    const giveUp = new AbortController();
    const quitters = Array.from({ length: 65 }, () =>
      quitting.lock(key, { signal: giveUp.signal }).catch((e: unknown) => e),
    );
    while ((await count()) < 66) await sleep(5);
    let granted = false;
    const waiting = patient.lock(key, { timeout: 30_000 }).then((lock) => {
      granted = true;
      return lock;
    });
    while ((await count()) < 67) await sleep(5);
    giveUp.abort(new Error('gave up'));
    for (const result of await Promise.all(quitters))
      expect(result).toMatchObject({ code: 'ABORTED' });
    while ((await count()) > 2) await sleep(5);
    await sleep(300);
    expect(granted).toBe(false); // the holder still holds it
    expect((await holding.inspect(key))?.fence).toBe(held.fence);
    await held.release();
    const next = await waiting;
    expect(next.identity).toBe('patient');
    expect(next.fence).toBeGreaterThan(held.fence);
    await next.release();
  }, 30_000);

  it('a waiter whose queue entry is deleted under it queues again at once and still waits its turn', async () => {
    const prefix = `${randomNamespace()}/`;
    const open = (identity: string) => patientLocker(prefix, identity);
    const [holding, waitingLocker] = [open('holder'), open('waiter')];
    const key = randomKey();
    const folder = `${prefix}${encodeURIComponent(key)}/`;
    const held = await holding.tryLock(key);
    let granted = false;
    const waiting = waitingLocker.lock(key, { timeout: 30_000 }).then((lock) => {
      granted = true;
      return lock;
    });
    const kvs = async () => (await raw.getAll().prefix(folder).exec()).kvs;
    let entries = await kvs();
    while (entries.length < 2) {
      await sleep(5);
      entries = await kvs();
    }
    const queued = entries.reduce((a, b) =>
      Number(a.create_revision) > Number(b.create_revision) ? a : b,
    );
    await raw.delete().key(queued.key); // an operator removes the waiter's entry
    // The waiter hears its own entry go and writes it again (a minute's poll could not).
    const deadline = Date.now() + 5_000;
    for (;;) {
      const again = (await kvs()).find((kv) => kv.key.equals(queued.key));
      if (again !== undefined && Number(again.create_revision) > Number(queued.create_revision))
        break;
      if (Date.now() > deadline) throw new Error('the waiter did not queue again');
      await sleep(5);
    }
    expect(granted).toBe(false);
    await held.release();
    const next = await waiting;
    expect(next.identity).toBe('waiter');
    await next.release();
  }, 30_000);

  it('a waiter that gives up leaves the queue, and the one behind it moves up', async () => {
    const prefix = `${randomNamespace()}/`;
    const backend = () =>
      new EtcdBackend({ hosts: server.url, prefix, queuePollIntervalMs: 60_000 });
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
