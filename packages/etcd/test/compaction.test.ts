import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createLocker, type Locker, type LockHandle } from '@lock/core';
import { FaultProxy, randomKey, randomNamespace, serverAvailable, sleep } from '@lock/testkit';
import { Etcd3 } from 'etcd3';
import { DeleteWatches } from '../src/delete-watches.js';
import { EtcdBackend } from '../src/index.js';
import { ETCD, etcdForTests } from './etcd-server.js';

const available = serverAvailable(ETCD);

/**
 * A watch stream that breaks resumes each watch from the revision after the last one it saw; if
 * etcd compacted past that meanwhile, it cancels the watch. Waiters poll once a minute here, so
 * only a live watch can hand them the lock within a test.
 */
(available ? describe : describe.skip)('etcd watches cancelled by compaction', () => {
  const etcd = etcdForTests({ own: true });
  let proxy: FaultProxy;
  let prefix: string;
  const lockers: Locker[] = [];
  const open = (identity: string, port: number) => {
    const locker = createLocker(
      new EtcdBackend({
        hosts: `http://127.0.0.1:${port}`,
        prefix,
        queuePollIntervalMs: 60_000,
      }),
      { ttl: 10_000, identity, onError: () => {} },
    );
    lockers.push(locker);
    return locker;
  };

  beforeEach(async () => {
    proxy = await FaultProxy.start(Number(new URL(etcd.server.url).port));
    prefix = `${randomNamespace()}/`;
  });
  afterEach(async () => {
    await Promise.all(lockers.splice(0).map((l) => l.close()));
    await proxy.close();
  });

  /** Breaks the connections through the proxy, compacts etcd's history meanwhile, heals. */
  async function breakAndCompact(): Promise<void> {
    await proxy.set({ kind: 'refuse' });
    await sleep(300);
    for (let i = 0; i < 3; i++) await etcd.raw.put(`${prefix}filler`).value(String(i));
    const { header } = await etcd.raw.kv.range({ key: Buffer.from(`${prefix}filler`) });
    await etcd.raw.kv.compact({ revision: header.revision, physical: true });
    await proxy.set({ kind: 'pass' });
  }

  it('a waiter whose shared folder watch was cancelled still takes the lock at once on release', async () => {
    const holder = open('holder', Number(new URL(etcd.server.url).port));
    const waiter = open('waiter', proxy.port);
    const key = randomKey();
    const folder = `${prefix}${encodeURIComponent(key)}/`;
    const held = await holder.tryLock(key);
    const waiting = waiter.lock(key, { timeout: 20_000 });
    while ((await etcd.raw.getAll().prefix(folder).count()) < 2) await sleep(10);
    await breakAndCompact();
    // Connected again (the read goes through the proxy; gRPC may answer UNAVAILABLE while its
    // channel is still in reconnect backoff), and the watch stream has had time to come back and
    // be cancelled by etcd.
    await reconnected(() => waiter.inspect(key));
    await sleep(1_000);
    const releasedAt = performance.now();
    await held.release();
    const next: LockHandle = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(3_000);
    expect(next.fence).toBeGreaterThan(held.fence);
    // The backend's watch stream still works: the cancelled watch was not cancelled again (etcd3
    // would throw from its stream handler on etcd's answer, and no watch would hear anything).
    const again = holder.lock(key, { timeout: 20_000 });
    while ((await etcd.raw.getAll().prefix(folder).count()) < 2) await sleep(10);
    const third = waiter.lock(key, { timeout: 20_000 });
    while ((await etcd.raw.getAll().prefix(folder).count()) < 3) await sleep(10);
    await next.release();
    const second: LockHandle = await again;
    const handedAt = performance.now();
    await second.release();
    const last: LockHandle = await third;
    expect(performance.now() - handedAt).toBeLessThan(3_000);
    await last.release();
  }, 45_000);

  it('watch() keeps calling back after its watch was cancelled', async () => {
    const holder = open('holder', Number(new URL(etcd.server.url).port));
    const backend = new EtcdBackend({ hosts: `http://127.0.0.1:${proxy.port}`, prefix });
    try {
      const key = randomKey();
      let calls = 0;
      const unsubscribe = await backend.watch(key, () => {
        calls += 1;
      });
      await sleep(300);
      await breakAndCompact();
      await reconnected(() => backend.inspect(key));
      await sleep(1_500);
      const before = calls;
      await (await holder.tryLock(key)).release();
      const deadline = performance.now() + 3_000;
      while (calls === before && performance.now() < deadline) await sleep(20);
      expect(calls).toBeGreaterThan(before);
      await unsubscribe();
    } finally {
      await backend.close();
    }
  }, 30_000);

  it('a watch etcd cancelled is never cancelled again, so the watch stream keeps working', async () => {
    const client = new Etcd3({ hosts: etcd.server.url });
    const watches = new DeleteWatches(client, `${prefix}\u0000anchor`, 5_000);
    try {
      for (let i = 0; i < 3; i++) await etcd.raw.put(`${prefix}filler`).value(String(i));
      const { header } = await etcd.raw.kv.range({ key: Buffer.from(`${prefix}filler`) });
      await etcd.raw.kv.compact({ revision: header.revision, physical: true });
      // A watch from a compacted revision: etcd cancels it at once, which wakes its owner.
      let woken = false;
      const cancel = watches.entry(Buffer.from(`${prefix}gone`), '1', () => {
        woken = true;
      });
      while (!woken) await sleep(10);
      // The owner cancels it as it always does. Cancelling it again would make etcd answer for
      // a watch etcd3 forgot, and etcd3 would throw from its stream handler (uncaught).
      cancel();
      await sleep(500);
      const live = await watches.folder(Buffer.from(`${prefix}f/`));
      let heard = false;
      live.onDelete(() => {
        heard = true;
      });
      await etcd.raw.put(`${prefix}f/a`).value('1');
      await etcd.raw.delete().key(`${prefix}f/a`);
      const deadline = performance.now() + 3_000;
      while (!heard && performance.now() < deadline) await sleep(10);
      expect(heard).toBe(true);
      live.cancel();
    } finally {
      watches.close();
      client.close();
    }
  });
});

/** Retries `read` until it succeeds (the channel is connected again), for at most 10 s. */
async function reconnected(read: () => Promise<unknown>): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    try {
      await read();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(100);
    }
  }
}
