import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, createLocker, isLockError, registerBackend } from '@lock/core';
import {
  freePort,
  type RunningServer,
  randomKey,
  randomNamespace,
  runConformanceSuite,
  sleep,
} from '@lock/testkit';
import { createClient } from 'redis';
import { lockKeys, openBackend, RedlockBackend } from '../src/index.js';
import { openAndConnect, redisAvailable, startOwnRedis } from './redis-server.js';

const available = redisAvailable();

async function startFive(): Promise<RunningServer[]> {
  return Promise.all(Array.from({ length: 5 }, () => startOwnRedis()));
}

(available ? describe : describe.skip)('redlock over five redis-server processes', () => {
  let servers: RunningServer[] = [];
  let raws: ReturnType<typeof createClient>[] = [];

  beforeAll(async () => {
    servers = await startFive();
    raws = servers.map((s) => createClient({ url: s.url }));
    await Promise.all(raws.map((r) => r.connect()));
  });
  afterAll(async () => {
    await Promise.all(raws.map((r) => r.close()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('semaphores and read-write locks are refused on Redlock, with the reason, before any I/O', async () => {
    const locker = createLocker(
      new RedlockBackend({ nodes: servers.map((s) => s.url), prefix: `${randomNamespace()}:` }),
    );
    try {
      for (const make of [
        () => locker.semaphore(randomKey(), { permits: 2 }),
        () => locker.readWriteLock(randomKey()),
      ]) {
        let error: unknown;
        try {
          make();
        } catch (e) {
          error = e;
        }
        expect(isLockError(error, 'UNSUPPORTED_SERVICE')).toBe(true);
        expect((error as Error).message).toMatch(/"redlock" backend serves no semaphores/);
        expect((error as Error).message).toMatch(/no majority agrees who is next in line/);
        expect((error as Error).message).toMatch(/use RedisBackend/);
      }
      // The locker still serves mutexes.
      const lock = await locker.tryLock(randomKey());
      await lock.release();
    } finally {
      await locker.close();
    }
  });

  runConformanceSuite({
    name: 'redlock (5 nodes)',
    createBackend: async (namespace) =>
      new RedlockBackend({ nodes: servers.map((s) => s.url), prefix: `${namespace}:` }),
    forceDelete: async (namespace, key) => {
      await Promise.all(raws.map((r) => r.del(lockKeys(`${namespace}:`, key).lock)));
    },
    createUnreachableBackend: async () =>
      new RedlockBackend({
        nodes: await Promise.all(
          [1, 2, 3].map(async () => `redis://127.0.0.1:${await freePort()}`),
        ),
        connectTimeout: 1_000,
      }),
    // Each attempt is two round trips to five servers: fewer contenders keep the run short.
    capabilities: {
      seedContenders: 200,
      semaphoresUnsupported: 'independent servers see waiters in different orders',
    },
  });

  it('opens from a redlock:// URI, through connect() too, and holds the lock on every node', async () => {
    registerBackend('redlock', async () => ({ openBackend }));
    const prefix = `${randomNamespace()}:`;
    const hosts = servers.map((s) => `127.0.0.1:${s.ports[0]}`).join(',');
    const locker = await connect(`redlock://${hosts}?prefix=${prefix}&command-timeout=1s`, {
      ttl: 5_000,
    });
    try {
      const key = randomKey();
      const lock = await locker.tryLock(key);
      const owners = await Promise.all(raws.map((raw) => raw.get(lockKeys(prefix, key).lock)));
      expect(new Set(owners).size).toBe(1);
      expect(owners[0]).not.toBeNull();
      await lock.release();
      const again = await locker.tryLock(key);
      expect(again.fence).toBeGreaterThan(lock.fence);
      await again.release();
    } finally {
      await locker.close();
    }
  });

  it('a redlock:// URI whose nodes cannot be reached fails fast, without showing the password', async () => {
    const ports = await Promise.all([1, 2, 3].map(() => freePort()));
    const uri = `redlock://:hunter2@${ports.map((p) => `127.0.0.1:${p}`).join(',')}?connect-timeout=500ms`;
    const started = performance.now();
    const error = await openAndConnect(uri).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    expect((error as Error).message).toContain('quorum of 2');
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('hunter2');
  });
});

(available ? describe : describe.skip)('redlock when nodes fail', () => {
  it('holds a lock with 3 of 5 nodes up, and refuses with 2 of 5', async () => {
    const servers = await startFive();
    const locker = createLocker(
      new RedlockBackend({ nodes: servers.map((s) => s.url), prefix: `${randomNamespace()}:` }),
      { ttl: 1_000, onError: () => {} },
    );
    try {
      await servers[3]?.stop();
      await servers[4]?.stop();
      const held = await locker.tryLock(randomKey());
      await sleep(2_500); // keepalive renews on 3 of 5, across more than two TTLs
      expect(held.held).toBe(true);
      await held.release();

      await servers[2]?.stop();
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).message).toContain('quorum of 3');
      expect((error as Error).cause).toBeInstanceOf(AggregateError);
    } finally {
      await locker.close();
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, 30_000);

  it('killing one node while a lock is held does not break exclusion', async () => {
    const servers = await startFive();
    const prefix = `${randomNamespace()}:`;
    const nodes = servers.map((s) => s.url);
    const a = createLocker(new RedlockBackend({ nodes, prefix }), {
      ttl: 1_000,
      onError: () => {},
    });
    const b = createLocker(new RedlockBackend({ nodes, prefix }), {
      ttl: 1_000,
      onError: () => {},
    });
    try {
      const key = randomKey();
      const held = await a.tryLock(key);
      await servers[0]?.stop();
      for (let i = 0; i < 5; i++) {
        await expect(b.tryLock(key)).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
        await sleep(400);
      }
      expect(held.held).toBe(true);
      const waiting = b.lock(key, { timeout: 5_000 });
      await held.release();
      const next = await waiting;
      expect(next.fence).toBeGreaterThan(held.fence);
      await next.release();
    } finally {
      await a.close();
      await b.close();
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, 30_000);

  it('rejects an even number of nodes', () => {
    expect(() => new RedlockBackend({ nodes: ['redis://a', 'redis://b'] })).toThrow(/odd/);
  });
});
