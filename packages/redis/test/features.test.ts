import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BackendError, createLocker, isLockError, type Locker } from '@lock/core';
import { type RunningServer, randomKey, randomNamespace, sleep } from '@lock/testkit';
import { createClient } from 'redis';
import { lockKeys, RedisBackend, RedisOutOfMemoryError } from '../src/index.js';
import { redisAvailable, startOwnRedis, startRedis } from './redis-server.js';

const available = redisAvailable();

(available ? describe : describe.skip)('redis backend features', () => {
  let server: RunningServer;
  let raw: ReturnType<typeof createClient>;
  const lockers: Locker[] = [];
  const backend = (options: Partial<ConstructorParameters<typeof RedisBackend>[0]> = {}) =>
    new RedisBackend({ url: server.url, prefix: `${randomNamespace()}:`, ...options });
  const locker = (b: RedisBackend, options: Parameters<typeof createLocker>[1] = {}) => {
    const created = createLocker(b, { onError: () => {}, ...options });
    lockers.push(created);
    return created;
  };

  beforeAll(async () => {
    server = await startRedis();
    raw = createClient({ url: server.url });
    await raw.connect();
  });
  afterAll(async () => {
    await Promise.all(lockers.map((l) => l.close()));
    await raw?.close();
    await server?.stop();
  });

  for (const fair of [false, true]) {
    it(`${fair ? 'fair' : 'unfair'}: a waiter wakes over pub/sub, long before its safety poll`, async () => {
      const prefix = `${randomNamespace()}:`;
      const options = { prefix, fair, queuePollInterval: 5_000 };
      const a = locker(backend(options));
      const b = locker(backend(options), { retry: { pollInterval: 5_000 } });
      const key = randomKey();
      const held = await a.tryLock(key, { ttl: 30_000 });
      const waiting = b.lock(key, { timeout: 20_000 });
      await sleep(300);
      const releasedAt = performance.now();
      await held.release();
      const next = await waiting;
      // Generous bound: far below the 5 s poll, so only the release message can explain it.
      expect(performance.now() - releasedAt).toBeLessThan(2_000);
      expect(next.fence).toBeGreaterThan(held.fence);
      await next.release();
    });
  }

  it('fair: 10 waiters queued in a known order acquire in that order', async () => {
    const prefix = `${randomNamespace()}:`;
    const a = locker(backend({ prefix }));
    const key = randomKey();
    const keys = lockKeys(prefix, key);
    const held = await a.tryLock(key, { ttl: 30_000 });
    const order: number[] = [];
    const waiters: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      const l = locker(backend({ prefix }));
      waiters.push(
        l.lock(key, { timeout: 20_000 }).then(async (lock) => {
          order.push(i);
          await lock.release();
        }),
      );
      // Wait until waiter i has its place before the next one comes.
      const deadline = performance.now() + 5_000;
      while ((await raw.zCard(keys.queue)) < i + 1) {
        if (performance.now() > deadline) throw new Error(`waiter ${i} never queued`);
        await sleep(5);
      }
    }
    await held.release();
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await raw.exists(keys.queue)).toBe(0);
  });

  it('fair: a waiter that dies in the queue is skipped once its place expires', async () => {
    const prefix = `${randomNamespace()}:`;
    const opts = { prefix, queuePollInterval: 100, queueEntryTtl: 300 };
    const a = locker(backend(opts));
    const key = randomKey();
    const keys = lockKeys(prefix, key);
    const held = await a.tryLock(key, { ttl: 30_000 });
    // A dead waiter first in line: a live place (300 ms left by the server's clock) that
    // nobody will refresh or claim.
    const serverNow = await raw.time();
    const nowMs = Number(serverNow[0]) * 1_000 + Math.floor(Number(serverNow[1]) / 1_000);
    await raw.zAdd(keys.queue, { score: 0, value: 'dead.owner' });
    await raw.hSet(keys.queueExpiry, 'dead.owner', String(nowMs + 300));
    const b = locker(backend(opts));
    const waiting = b.lock(key, { timeout: 10_000 });
    await sleep(100);
    await held.release();
    const next = await waiting;
    expect(next.held).toBe(true);
    expect(await raw.zScore(keys.queue, 'dead.owner')).toBeNull();
    await next.release();
  });

  it('fair: tryLock does not jump the queue', async () => {
    const prefix = `${randomNamespace()}:`;
    const a = locker(backend({ prefix }));
    const b = locker(backend({ prefix }));
    const c = locker(backend({ prefix }));
    const key = randomKey();
    const held = await a.tryLock(key);
    const waiting = b.lock(key, { timeout: 10_000 });
    await sleep(100);
    await expect(c.tryLock(key)).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
    await held.release();
    const next = await waiting;
    await expect(c.tryLock(key)).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
    await next.release();
    await (await c.tryLock(key)).release();
  });

  it('extendMany renews many locks in one call and reports each result in order', async () => {
    const prefix = `${randomNamespace()}:`;
    const b = backend({ prefix });
    try {
      const keys = [randomKey(), randomKey(), randomKey()];
      await b.acquire({ key: keys[0] as string, owner: 'me.1', ttlMs: 1_000 });
      await b.acquire({ key: keys[1] as string, owner: 'other.2', ttlMs: 1_000 });
      const results = await b.extendMany([
        { key: keys[0] as string, owner: 'me.1', ttlMs: 60_000 },
        { key: keys[1] as string, owner: 'me.1', ttlMs: 60_000 },
        { key: keys[2] as string, owner: 'me.1', ttlMs: 60_000 },
      ]);
      expect(results).toEqual(['ok', 'forbidden', 'not-found']);
      expect(await raw.pTTL(lockKeys(prefix, keys[0] as string).lock)).toBeGreaterThan(50_000);
      expect(await raw.pTTL(lockKeys(prefix, keys[1] as string).lock)).toBeLessThanOrEqual(1_000);
      const many = Array.from({ length: 1_200 }, (_, i) => ({
        key: `many-${i}`,
        owner: 'me.1',
        ttlMs: 5_000,
      }));
      for (const request of many) await b.acquire(request);
      const renewed = await b.extendMany(many);
      expect(renewed).toHaveLength(1_200);
      expect(renewed.every((r) => r === 'ok')).toBe(true);
    } finally {
      await b.close();
    }
  });

  it('inspect reports owner, remaining TTL and fence', async () => {
    const b = backend();
    try {
      const key = randomKey();
      expect(await b.inspect(key)).toBeUndefined();
      const granted = await b.acquire({ key, owner: 'x.secret', ttlMs: 10_000 });
      expect(granted.acquired).toBe(true);
      const info = await b.inspect(key);
      expect(info?.owner).toBe('x.secret');
      expect(info?.remainingMs).toBeGreaterThan(5_000);
      expect(info?.fence).toBe(granted.acquired ? granted.fence : -1);
    } finally {
      await b.close();
    }
  });

  it('lock and fence keys share one hash tag (one Cluster slot)', () => {
    const keys = lockKeys('lock:', 'a}b{c');
    const tag = (k: string) => k.slice(k.indexOf('{') + 1, k.indexOf('}', k.indexOf('{') + 1));
    const tags = new Set(
      [keys.lock, keys.fence, keys.queue, keys.queueExpiry, keys.queueTicket].map(tag),
    );
    expect(tags.size).toBe(1);
  });

  it('user data never enters script text: odd keys and owners work', async () => {
    const b = backend();
    try {
      const key = `'); redis.call('FLUSHALL') --"]]`;
      const owner = `x.'"]]--\n`;
      const granted = await b.acquire({ key, owner, ttlMs: 5_000 });
      expect(granted.acquired).toBe(true);
      expect(await b.release({ key, owner })).toBe('ok');
    } finally {
      await b.close();
    }
  });

  it('close() never quits a client the user passed in', async () => {
    const client = createClient({ url: server.url });
    await client.connect();
    try {
      const b = new RedisBackend({ client, prefix: `${randomNamespace()}:` });
      const l = createLocker(b);
      const key = randomKey();
      const lock = await l.lock(key, { timeout: 1_000 });
      await lock.release();
      await l.close();
      expect(client.isOpen).toBe(true);
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.close();
    }
  });

  it('warns once when maxmemory-policy can evict locks, and not under noeviction', async () => {
    const own = await startOwnRedis(() => ['--maxmemory-policy', 'allkeys-lru']);
    const warnings: string[] = [];
    const risky = new RedisBackend({ url: own.url, onWarning: (m) => warnings.push(m) });
    const safe = new RedisBackend({ url: server.url, onWarning: (m) => warnings.push(m) });
    try {
      await risky.connect();
      await safe.connect();
      await risky.acquire({ key: randomKey(), owner: 'a.b', ttlMs: 1_000 });
      await sleep(200);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('allkeys-lru');
      expect(warnings[0]).toContain('noeviction');
    } finally {
      await risky.close();
      await safe.close();
      await own.stop();
    }
  });

  it('an out-of-memory server gives a clear RedisOutOfMemoryError', async () => {
    const own = await startOwnRedis(() => ['--maxmemory', '1', '--maxmemory-policy', 'noeviction']);
    const b = new RedisBackend({ url: own.url, onWarning: () => {} });
    try {
      const error = await b
        .acquire({ key: randomKey(), owner: 'a.secret-token', ttlMs: 1_000 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisOutOfMemoryError);
      expect(error).toBeInstanceOf(BackendError);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).message).toContain('out of memory');
      expect((error as Error).message).not.toContain('secret-token');
      expect((error as Error).cause).toBeDefined();
    } finally {
      await b.close();
      await own.stop();
    }
  });
});
