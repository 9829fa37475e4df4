import { afterEach, describe, expect, it } from '@jest/globals';
import { createLocker } from '@lock/core';
import { randomKey, randomNamespace, serverAvailable } from '@lock/testkit';
import { EtcdBackend } from '../src/index.js';
import { leaseSecondsFor } from '../src/lease-pool.js';
import { ETCD, etcdForTests } from './etcd-server.js';

const available = serverAvailable(ETCD);

describe('lease TTL for a lock TTL', () => {
  it('rounds up to whole seconds, plus a second of headroom from 5 s up', () => {
    expect(leaseSecondsFor(1)).toBe(1);
    expect(leaseSecondsFor(1_000)).toBe(1);
    expect(leaseSecondsFor(1_500)).toBe(2);
    expect(leaseSecondsFor(4_999)).toBe(5);
    expect(leaseSecondsFor(5_000)).toBe(6);
    expect(leaseSecondsFor(9_500)).toBe(11);
    expect(leaseSecondsFor(10_000)).toBe(11);
    expect(leaseSecondsFor(30_000)).toBe(31);
  });
});

(available ? describe : describe.skip)('etcd hot path, counted by etcd itself', () => {
  // Its own etcd: the message counters must see this file's calls only.
  const etcd = etcdForTests({ own: true });
  const backends: EtcdBackend[] = [];
  const open = () => {
    const backend = new EtcdBackend({ hosts: etcd.server.url, prefix: `${randomNamespace()}/` });
    backends.push(backend);
    return backend;
  };

  afterEach(async () => {
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });

  /**
   * gRPC messages etcd received so far, from its /metrics (stream messages counted one each);
   * of one method (`Txn`, `LeaseTimeToLive`, …) when given.
   */
  const messagesReceived = async (method?: string) => {
    const metrics = await (await fetch(`${etcd.server.url}/metrics`)).text();
    let total = 0;
    for (const [, labels, value] of metrics.matchAll(
      /^grpc_server_msg_received_total\{([^}]*)\} (\S+)$/gm,
    )) {
      if (method === undefined || labels?.includes(`grpc_method="${method}"`))
        total += Number(value);
    }
    return total;
  };

  it('an uncontended acquire + release pair is 2 gRPC messages (a keepalive at most once a second)', async () => {
    const backend = open();
    const ttlMs = 10_000;
    // The first acquire grants the lease and opens nothing else the pairs below need.
    await backend.acquire({ key: randomKey(), owner: 'w.warm', ttlMs });
    const before = await messagesReceived();
    const keepalivesBefore = backend.stats.keepalives;
    const started = performance.now();
    const pairs = 40;
    for (let i = 0; i < pairs; i++) {
      const key = randomKey();
      const owner = `w.pair-${i}`;
      expect(await backend.acquire({ key, owner, ttlMs })).toMatchObject({ acquired: true });
      expect(await backend.release({ key, owner })).toBe('ok');
    }
    const elapsed = performance.now() - started;
    const messages = (await messagesReceived()) - before;
    const keepalives = backend.stats.keepalives - keepalivesBefore;
    // Every message is accounted for: two transactions a pair, plus the keepalives sent.
    expect(messages).toBe(2 * pairs + keepalives);
    // The lease's headroom lets one renewal cover every acquire of the next second.
    expect(keepalives).toBeLessThanOrEqual(Math.ceil(elapsed / 1_000));
  }, 30_000);

  it('an acquire renews the lease when its last renewal cannot cover a full TTL from the call', async () => {
    const backend = open();
    const ttlMs = 5_000; // a 6 s lease
    await backend.acquire({ key: randomKey(), owner: 'w.warm', ttlMs });
    // Spaced so that some acquires fall within the headroom of the last renewal (the short
    // pauses) and some past it; past it, only a renewal keeps the lease for a TTL from the call
    // (unrenewed, 2.2 s after its last renewal the 6 s lease would have 3.8 s left).
    for (const pauseMs of [300, 2_200, 500, 2_300]) {
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      const key = randomKey();
      const owner = `w.after-${pauseMs}`;
      const keepalivesBefore = backend.stats.keepalives;
      const started = performance.now();
      expect(await backend.acquire({ key, owner, ttlMs })).toMatchObject({ acquired: true });
      if (pauseMs > 1_000) expect(backend.stats.keepalives - keepalivesBefore).toBe(1);
      const entry = (await etcd.raw.getAll().prefix(backend.layout.prefix).exec()).kvs.find(
        (kv) => kv.value.toString() === owner,
      );
      const reply = await etcd.raw.leaseClient.leaseTimeToLive({ ID: entry?.lease ?? '0' });
      // etcd keeps the entry at least until `started + ttlMs` (it reports whole seconds, down).
      const owed = ttlMs - (performance.now() - started);
      expect(Number(reply.TTL) * 1_000).toBeGreaterThanOrEqual(Math.floor(owed / 1_000) * 1_000);
    }
  }, 30_000);

  it('an uncontended lock() + release is 2 gRPC messages, and the lock is valid a full TTL from the call', async () => {
    const backend = open();
    const locker = createLocker(backend, { ttl: 10_000 });
    try {
      await (await locker.lock(randomKey())).release(); // grants the lease
      // What a plain acquire leaves of the TTL (core subtracts a safety margin from it).
      const tried = performance.now();
      const plain = await locker.tryLock(randomKey());
      const plainDeficit = 10_000 - plain.remainingMs - (performance.now() - tried);
      await plain.release();
      const before = await messagesReceived();
      const keepalivesBefore = backend.stats.keepalives;
      const started = performance.now();
      const pairs = 40;
      for (let i = 0; i < pairs; i++) {
        const called = performance.now();
        const lock = await locker.lock(randomKey());
        // Core counts validity from the call, as for a plain acquire (not from an older renewal).
        const deficit = 10_000 - lock.remainingMs - (performance.now() - called);
        expect(deficit).toBeLessThan(plainDeficit + 20);
        await lock.release();
      }
      const elapsed = performance.now() - started;
      const keepalives = backend.stats.keepalives - keepalivesBefore;
      // One transaction joins the queue and, with nobody ahead, takes the lock; one releases.
      expect((await messagesReceived()) - before).toBe(2 * pairs + keepalives);
      expect(keepalives).toBeLessThanOrEqual(Math.ceil(elapsed / 1_000));
    } finally {
      await locker.close();
    }
  }, 30_000);

  it('a contended lock() joins the queue with one transaction, without a plain try first', async () => {
    const holder = open();
    const contender = new EtcdBackend({ hosts: etcd.server.url, prefix: holder.layout.prefix });
    backends.push(contender);
    const locker = createLocker(contender, { ttl: 10_000 });
    const key = randomKey();
    try {
      // The contender waits once, so that its watch of the lock's deletes is live (it is kept
      // a moment after a wait), as it is for a process that takes turns on a busy lock.
      await holder.acquire({ key, owner: 'h.first', ttlMs: 10_000 });
      const first = locker.lock(key);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await holder.release({ key, owner: 'h.first' });
      await (await first).release();
      await holder.acquire({ key, owner: 'h.second', ttlMs: 10_000 });
      const before = await messagesReceived('Txn');
      const second = locker.lock(key);
      await new Promise((resolve) => setTimeout(resolve, 200)); // queued by now
      // Only the enqueue: no try that could only fail, and no read after it.
      expect((await messagesReceived('Txn')) - before).toBe(1);
      await holder.release({ key, owner: 'h.second' });
      await (await second).release();
    } finally {
      await locker.close();
    }
  }, 30_000);

  it("denials of a held lock ask etcd for the holder's lease TTL once, while it has a second or more", async () => {
    const holder = open();
    // Both backends share one prefix, so the contender sees the holder's entry.
    const contender = new EtcdBackend({ hosts: etcd.server.url, prefix: holder.layout.prefix });
    backends.push(contender);
    const key = randomKey();
    await holder.acquire({ key, owner: 'h.holder', ttlMs: 10_000 });
    const before = await messagesReceived('LeaseTimeToLive');
    const reported: (number | undefined)[] = [];
    for (let i = 0; i < 10; i++) {
      const denied = await contender.acquire({ key, owner: `c.try-${i}`, ttlMs: 10_000 });
      expect(denied).toMatchObject({ acquired: false, holder: 'h.holder' });
      if (!denied.acquired) reported.push(denied.remainingMs);
    }
    reported.push((await contender.inspect(key))?.remainingMs);
    expect((await messagesReceived('LeaseTimeToLive')) - before).toBe(1);
    // Whole seconds, never more than etcd granted (11 s for 10 s), and never growing.
    for (const [i, ms] of reported.entries()) {
      expect(ms).toBeDefined();
      expect((ms as number) % 1_000).toBe(0);
      expect(ms as number).toBeGreaterThan(0);
      expect(ms as number).toBeLessThanOrEqual(i === 0 ? 11_000 : (reported[i - 1] as number));
    }
  }, 30_000);
});
