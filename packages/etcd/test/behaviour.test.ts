import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createLocker, isLockError, type Locker } from '@lock/core';
import { type RunningServer, randomKey, randomNamespace, serverAvailable } from '@lock/testkit';
import { Etcd3 } from 'etcd3';
import { EtcdBackend } from '../src/index.js';
import { ETCD, startEtcd } from './etcd-server.js';

const available = serverAvailable(ETCD);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

(available ? describe : describe.skip)('etcd backend behaviour', () => {
  let server: RunningServer;
  let raw: Etcd3;
  const lockers: Locker[] = [];
  const backends: EtcdBackend[] = [];
  let prefix: string;
  const backend = () => {
    const created = new EtcdBackend({ hosts: server.url, prefix });
    backends.push(created);
    return created;
  };
  const locker = (options: Parameters<typeof createLocker>[1] = {}) => {
    const created = createLocker(backend(), { onError: () => {}, ...options });
    lockers.push(created);
    return created;
  };
  const entries = (key: string) => raw.getAll().prefix(`${prefix}${encodeURIComponent(key)}/`);

  beforeAll(async () => {
    server = await startEtcd();
    raw = new Etcd3({ hosts: server.url });
  }, 30_000);
  beforeEach(() => {
    prefix = `${randomNamespace()}/`;
  });
  afterEach(async () => {
    await Promise.all(lockers.splice(0).map((l) => l.close()));
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    raw?.close();
    await server?.stop();
  });

  it('a waiter granted after waiting longer than its TTL gets a live lock that keepalive keeps', async () => {
    const a = locker({ ttl: 10_000 });
    // 1.5 s asks for less than the 2 s lease etcd grants: validity must follow the 1.5 s.
    const b = locker({ ttl: 1_500 });
    const key = randomKey();
    const held = await a.tryLock(key);
    const waiting = b.lock(key, { timeout: 20_000 });
    await sleep(3_500); // over two of b's TTLs: its entry survives on its background-renewed lease
    await held.release();
    const granted = await waiting;
    expect(granted.held).toBe(true);
    expect(granted.remainingMs).toBeGreaterThan(1_500 / 2 - 200);
    await sleep(2_500);
    expect(granted.held).toBe(true);
    expect(granted.fence).toBeGreaterThan(held.fence);
    await granted.release();
  }, 30_000);

  it('reports the TTL etcd granted, and core keeps the shorter', async () => {
    const direct = backend();
    const owner = 'direct.secret-1';
    const key = randomKey();
    const grant = await direct.acquire({ key, owner, ttlMs: 1_500 });
    expect(grant).toMatchObject({ acquired: true, ttlMs: 2_000 });
    expect(await entries(key).count()).toBe(1);
    await expect(direct.release({ key, owner })).resolves.toBe('ok');
    const a = locker({ ttl: 1_500 });
    const lock = await a.tryLock(randomKey());
    expect(lock.ttlMs).toBe(1_500);
  });

  it('one lease per locker and TTL: many locks, one keepalive per tick', async () => {
    const direct = backend();
    const a = createLocker(direct, { ttl: 3_000, identity: 'many', onError: () => {} });
    lockers.push(a);
    const locks = await Promise.all(Array.from({ length: 50 }, () => a.tryLock(randomKey())));
    const leases = new Set((await raw.getAll().prefix(prefix).exec()).kvs.map((kv) => kv.lease));
    expect(leases.size).toBe(1);
    const before = direct.stats.keepalives;
    await sleep(3_200); // three ticks of a 3 s TTL
    const sent = direct.stats.keepalives - before;
    expect(sent).toBeGreaterThanOrEqual(2);
    expect(sent).toBeLessThanOrEqual(6);
    expect(locks.every((l) => l.held)).toBe(true);
  }, 15_000);

  it('extend with a longer TTL keeps the fence and outlives the old lease', async () => {
    const a = locker({ ttl: 1_000, keepalive: false });
    const b = locker();
    const key = randomKey();
    const lock = await a.tryLock(key);
    await lock.extend(5_000);
    await sleep(2_500); // well past the 1 s lease
    expect(lock.held).toBe(true);
    await expect(b.tryLock(key)).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
    expect((await b.inspect(key))?.fence).toBe(lock.fence);
    await lock.release();
  }, 15_000);

  it('watch() calls back when the lock is released', async () => {
    const a = locker();
    const key = randomKey();
    const lock = await a.tryLock(key);
    let calls = 0;
    const unsubscribe = await backend().watch(key, () => {
      calls += 1;
    });
    await sleep(200);
    const before = calls;
    await lock.release();
    const deadline = Date.now() + 5_000;
    while (calls === before && Date.now() < deadline) await sleep(10);
    expect(calls).toBeGreaterThan(before);
    await unsubscribe();
  });

  it('close() revokes the leases: held locks and queued entries are gone at once', async () => {
    const direct = backend();
    const key = randomKey();
    const other = randomKey();
    await direct.acquire({ key, owner: 'x.1', ttlMs: 30_000 });
    await direct.acquire({ key: other, owner: 'x.2', ttlMs: 30_000 });
    const b = locker();
    const waiting = createLocker(direct, { onError: () => {} })
      .lock(key, { timeout: 30_000 })
      .catch((e: unknown) => e);
    await sleep(200);
    await direct.close();
    expect(isLockError(await waiting, 'CLOSED')).toBe(true);
    expect(await entries(key).count()).toBe(0);
    expect(await b.inspect(other)).toBeUndefined();
  });

  it('a lock deleted behind the holder is reported lost at the next tick', async () => {
    const a = locker({ ttl: 1_500 });
    const key = randomKey();
    const lock = await a.tryLock(key);
    await raw.delete().prefix(`${prefix}${encodeURIComponent(key)}/`);
    const reason = await new Promise<unknown>((resolve) =>
      lock.signal.addEventListener('abort', () => resolve(lock.signal.reason)),
    );
    expect(isLockError(reason, 'LOST')).toBe(true);
  });
});

(available ? describe : describe.skip)('etcd backend against a frozen server', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startEtcd({ own: true });
  }, 30_000);
  afterAll(async () => {
    await server?.resume();
    await server?.stop();
  });

  it('fails within its request timeout instead of hanging, and recovers when the server does', async () => {
    const backend = new EtcdBackend({ hosts: server.url, requestTimeoutMs: 500 });
    const locker = createLocker(backend, { ttl: 5_000, onError: () => {} });
    try {
      await (await locker.tryLock(randomKey())).release(); // connected
      await server.pause();
      const started = performance.now();
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).cause).toBeDefined();
      expect(performance.now() - started).toBeLessThan(5_000);
      await server.resume();
      await sleep(200);
      await (await locker.tryLock(randomKey())).release();
    } finally {
      await server.resume();
      await locker.close();
    }
  });

  it('a holder cut off by a frozen server is told it lost the lock; a queued waiter gets it after', async () => {
    const prefix = `${randomNamespace()}/`;
    const open = () =>
      createLocker(new EtcdBackend({ hosts: server.url, prefix, requestTimeoutMs: 1_000 }), {
        ttl: 1_500,
        onError: () => {},
      });
    const a = open();
    const b = open();
    try {
      const key = randomKey();
      const held = await a.tryLock(key);
      const waiting = b.lock(key, { timeout: 30_000 });
      await sleep(200);
      await server.pause();
      let risked = false;
      const reason = await new Promise<unknown>((resolve) => {
        held.signal.addEventListener('abort', () => resolve(held.signal.reason));
        const poll = setInterval(() => {
          if (held.atRisk) risked = true;
          if (held.signal.aborted) clearInterval(poll);
        }, 20);
      });
      expect(isLockError(reason, 'LOST')).toBe(true);
      expect(risked).toBe(true);
      await sleep(500);
      await server.resume();
      const next = await waiting;
      expect(next.fence).toBeGreaterThan(held.fence);
      await next.release();
    } finally {
      await server.resume();
      await Promise.all([a.close(), b.close()]);
    }
  }, 40_000);
});
