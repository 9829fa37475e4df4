import { afterEach, describe, expect, it } from '@jest/globals';
import type { SemaphoreAcquireRequest } from '@lock/core';
import { FaultProxy, randomKey, randomNamespace, serverAvailable, sleep } from '@lock/testkit';
import { EtcdBackend } from '../src/index.js';
import { ETCD, etcdForTests } from './etcd-server.js';

const available = serverAvailable(ETCD);

/** A semaphore request of one permit out of `permits`. */
function one(
  key: string,
  owner: string,
  permits: number,
  options: Partial<SemaphoreAcquireRequest> = {},
): SemaphoreAcquireRequest {
  return { key, owner, mode: 'permit', count: 1, permits, ttlMs: 10_000, wait: false, ...options };
}

(available ? describe : describe.skip)('etcd semaphores, natively', () => {
  // Its own etcd: the message counters must see this file's calls only.
  const etcd = etcdForTests({ own: true });
  const closers: (() => Promise<void>)[] = [];
  const open = (prefix = `${randomNamespace()}/`, hosts = etcd.server.url) => {
    const backend = new EtcdBackend({ hosts, prefix });
    closers.push(() => backend.close());
    return backend;
  };

  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  /** gRPC messages etcd received so far, of one method (`Txn`, `LeaseKeepAlive`, …) if given. */
  const received = async (method?: string) => {
    const metrics = await (await fetch(`${etcd.server.url}/metrics`)).text();
    let total = 0;
    for (const [, labels, value] of metrics.matchAll(
      /^grpc_server_msg_received_total\{([^}]*)\} (\S+)$/gm,
    )) {
      if (method === undefined || labels?.includes(`grpc_method="${method}"`)) {
        total += Number(value);
      }
    }
    return total;
  };

  it('an uncontended acquire + release of one permit is 2 gRPC messages, as a lock is', async () => {
    const backend = open();
    await backend.semaphoreAcquire(one(randomKey(), 'w.warm', 3)); // grants the lease
    const before = await received();
    const keepalivesBefore = backend.stats.keepalives;
    const started = performance.now();
    const pairs = 20;
    for (let i = 0; i < pairs; i++) {
      const key = randomKey();
      for (const wait of [false, true]) {
        const owner = `w.pair-${i}-${wait}`;
        expect(await backend.semaphoreAcquire(one(key, owner, 3, { wait }))).toMatchObject({
          acquired: true,
        });
        expect(await backend.semaphoreRelease({ key, owner })).toBe('ok');
      }
    }
    const elapsed = performance.now() - started;
    const keepalives = backend.stats.keepalives - keepalivesBefore;
    expect((await received()) - before).toBe(2 * 2 * pairs + keepalives);
    expect(keepalives).toBeLessThanOrEqual(Math.ceil(elapsed / 1_000));
  }, 30_000);

  it('with another holder in the line: a try reads, then writes if nobody joined (2 transactions); a wait writes at once (1)', async () => {
    const backend = open();
    const key = randomKey();
    expect(await backend.semaphoreAcquire(one(key, 'h.first', 3))).toMatchObject({
      acquired: true,
    });
    let before = await received('Txn');
    const tried = await backend.semaphoreAcquire(one(key, 'h.try', 3));
    expect((await received('Txn')) - before).toBe(2);
    before = await received('Txn');
    const waited = await backend.semaphoreAcquire(one(key, 'h.wait', 3, { wait: true }));
    expect((await received('Txn')) - before).toBe(1);
    expect(tried).toMatchObject({ acquired: true });
    expect(waited).toMatchObject({ acquired: true });
    // Fences are the entries' create revisions: in line order.
    const fences = [tried, waited].map((r) => (r.acquired ? r.fence : 0));
    expect(fences[1]).toBeGreaterThan(fences[0] as number);
    // Full now: a try is refused with one read and nothing written; a wait joins the line.
    before = await received('Txn');
    expect(await backend.semaphoreAcquire(one(key, 'h.full', 3))).toMatchObject({
      acquired: false,
      inUse: 3,
      holders: 3,
      ahead: 0,
    });
    expect((await received('Txn')) - before).toBe(1);
    expect(await backend.semaphoreInspect(key)).toMatchObject({ inUse: 3, waiting: 0 });
  }, 30_000);

  it('the config key deleted by hand: a waiter still joins, and a mismatched count is still refused', async () => {
    const prefix = `${randomNamespace()}/`;
    const backend = open(prefix);
    const key = randomKey();
    await backend.semaphoreAcquire(one(key, 'c.holder', 1));
    await etcd.raw.delete().key(`${prefix}#semcfg/${encodeURIComponent(key)}`);
    expect(await backend.semaphoreAcquire(one(key, 'c.other', 2, { wait: true }))).toMatchObject({
      acquired: false,
      mismatch: { kind: 'semaphore', permits: 1 },
    });
    expect(await backend.semaphoreAcquire(one(key, 'c.waiter', 1, { wait: true }))).toMatchObject({
      acquired: false,
      ahead: 0,
    });
    expect(await backend.semaphoreInspect(key)).toMatchObject({ inUse: 1, waiting: 1 });
    expect(await backend.semaphoreRelease({ key, owner: 'c.holder' })).toBe('ok');
    expect(await backend.semaphoreAcquire(one(key, 'c.waiter', 1, { wait: true }))).toMatchObject({
      acquired: true,
    });
  }, 30_000);

  it('keepalive of many permits is one lease keepalive and one LeaseTimeToLive per tick', async () => {
    const backend = open();
    const requests = [];
    for (let i = 0; i < 30; i++) {
      const request = one(randomKey(), `k.permit-${i}`, 2, { ttlMs: 2_000 });
      expect(await backend.semaphoreAcquire(request)).toMatchObject({ acquired: true });
      requests.push({ key: request.key, owner: request.owner, ttlMs: 2_000 });
    }
    await sleep(1_100); // past the lease's last renewal by more than a TTL's worth of headroom
    const keepalives = backend.stats.keepalives;
    const before = await received('LeaseTimeToLive');
    const results = await backend.semaphoreExtendMany(requests);
    expect(results).toEqual(requests.map(() => 'ok'));
    expect(backend.stats.keepalives - keepalives).toBe(1);
    expect((await received('LeaseTimeToLive')) - before).toBe(1);
  }, 30_000);

  it('a waiter keeps its place on a lease poisoned under it, and its holding moves off that lease', async () => {
    const prefix = `${randomNamespace()}/`;
    const port = Number(new URL(etcd.server.url).port);
    const proxy = await FaultProxy.start(port);
    closers.push(async () => {
      await proxy.close();
    });
    const holder = open(prefix);
    const waiter = new EtcdBackend({
      hosts: `http://127.0.0.1:${proxy.port}`,
      prefix,
      requestTimeoutMs: 600,
    });
    closers.unshift(() => waiter.close());
    const key = randomKey();
    const ttlMs = 5_000;
    expect(await holder.semaphoreAcquire(one(key, 'h.a', 1, { ttlMs }))).toMatchObject({
      acquired: true,
    });
    const place = one(key, 'w.a', 1, { ttlMs, wait: true });
    expect(await waiter.semaphoreAcquire(place)).toMatchObject({ acquired: false, ahead: 0 });
    const [entry] = (await etcd.raw.getAll().prefix(`${prefix}#sem/`).exec()).kvs.filter((kv) =>
      kv.value.toString().includes('"w.a"'),
    );
    const poisoned = entry?.lease as string;
    // Another acquire of the same owner identity lands but loses its reply: its lease (the
    // place's) is poisoned, handed out no more and to be revoked once nothing uses it.
    await proxy.set({ kind: 'drop-replies' });
    const lost = await waiter
      .semaphoreAcquire(one(randomKey(), 'w.b', 1, { ttlMs }))
      .catch((e: unknown) => e);
    expect(lost).toMatchObject({ code: 'BACKEND' });
    await proxy.set({ kind: 'pass' });
    await sleep(300);
    // Still in line (the place holds a use of the lease, so it is not revoked under it).
    expect(await waiter.semaphoreAcquire(place)).toMatchObject({ acquired: false, ahead: 0 });
    expect(await holder.semaphoreRelease({ key, owner: 'h.a' })).toBe('ok');
    const granted = await waiter.semaphoreAcquire(place);
    expect(granted).toMatchObject({ acquired: true, fence: Number(entry?.create_revision) });
    // The next renewal moves the holding to a fresh lease; then the poisoned one is revoked.
    expect(await waiter.semaphoreExtend({ key, owner: 'w.a', ttlMs })).toBe('ok');
    const moved = (await etcd.raw.getAll().prefix(`${prefix}#sem/`).exec()).kvs.filter((kv) =>
      kv.value.toString().includes('"w.a"'),
    );
    expect(moved).toHaveLength(1);
    expect(moved[0]?.lease).not.toBe(poisoned);
    expect(moved[0]?.create_revision).toBe(entry?.create_revision);
    const deadline = performance.now() + 3_000;
    while (Number((await etcd.raw.leaseClient.leaseTimeToLive({ ID: poisoned })).TTL) > 0) {
      expect(performance.now()).toBeLessThan(deadline);
      await sleep(50);
    }
    expect(await waiter.semaphoreInspect(key)).toMatchObject({
      inUse: 1,
      holders: [{ owner: 'w.a', count: 1 }],
    });
    expect(await waiter.semaphoreExtend({ key, owner: 'w.a', ttlMs })).toBe('ok');
    expect(await waiter.semaphoreRelease({ key, owner: 'w.a' })).toBe('ok');
  }, 30_000);
});
