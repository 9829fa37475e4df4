import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocker, type Locker } from '@lock/core';
import { type RunningServer, randomKey, randomNamespace } from '@lock/testkit';
import { createClient } from 'redis';
import { lockKeys, RedisBackend, semaphoreKeys } from '../src/index.js';
import { commandCalls } from './command-stats.js';
import { redisAvailable, startRedis } from './redis-server.js';

const available = redisAvailable();

(available ? describe : describe.skip)('redis semaphores: what only Redis does', () => {
  let server: RunningServer;
  let raw: ReturnType<typeof createClient>;
  const lockers: Locker[] = [];

  /** A locker on its own backend (its own connections, as another process would have). */
  function newLocker(prefix: string, pollInterval = 1_000): Locker {
    const locker = createLocker(new RedisBackend({ url: server.url, prefix }), {
      ttl: 30_000,
      retry: { pollInterval },
    });
    lockers.push(locker);
    return locker;
  }

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

  it('waiters on other backends get freed permits over pub/sub, long before their safety poll or TTL/3', async () => {
    const prefix = `${randomNamespace()}:`;
    const key = randomKey();
    // Safety poll and place refresh (TTL/3) both 10 s away: only a notification can wake them.
    const holder = newLocker(prefix, 10_000).semaphore(key, { permits: 3 });
    const held = await holder.acquire({ count: 3 });
    // Two waiters share one backend (one watcher group), a third has its own.
    const shared = newLocker(prefix, 10_000).semaphore(key, { permits: 3 });
    const alone = newLocker(prefix, 10_000).semaphore(key, { permits: 3 });
    const waiting = [shared, shared, alone].map((w) => w.acquire({ count: 1, timeout: 8_000 }));
    for (const w of waiting) w.catch(() => {});
    const deadline = performance.now() + 5_000;
    while ((await holder.inspect())?.waiting !== 3) {
      if (performance.now() > deadline) throw new Error('the waiters never joined the line');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const releasedAt = performance.now();
    await held.release();
    const granted = await Promise.all(waiting);
    // All are woken by the one release (every watcher of a backend wakes on a semaphore message).
    expect(performance.now() - releasedAt).toBeLessThan(2_000);
    expect(granted.map((p) => p.fence).sort()).toEqual([2, 3, 4]);
    await Promise.all(granted.map((p) => p.release()));
  }, 20_000);

  it('a semaphore and a mutex of the same name are separate records with separate fences', async () => {
    const prefix = `${randomNamespace()}:`;
    const locker = newLocker(prefix);
    const key = randomKey();
    const lock = await locker.tryLock(key);
    const permit = await locker.semaphore(key, { permits: 1 }).tryAcquire();
    const read = await locker.readWriteLock(`${key}:sem`).tryRead();
    expect(permit.fence).toBe(1);
    expect(read.fence).toBe(1);
    expect(await raw.type(lockKeys(prefix, key).lock)).toBe('string');
    expect(await raw.type(semaphoreKeys(prefix, key).meta)).toBe('hash');
    await permit.release();
    expect(await locker.inspect(key)).toMatchObject({ fence: lock.fence });
    await lock.release();
    await read.release();
  });

  it('keys and owners with quotes, brackets, braces and Lua text are data, never code', async () => {
    const prefix = `${randomNamespace()}:`;
    const locker = newLocker(prefix);
    const key = `a'b"c]]--[[ } { redis.call('FLUSHALL') ${randomKey()}`;
    const sem = locker.semaphore(key, { permits: 2 });
    const one = await sem.tryAcquire();
    const two = await sem.tryAcquire();
    await expect(sem.tryAcquire()).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
    expect(await sem.inspect()).toMatchObject({ inUse: 2, permits: 2 });
    await one.release();
    await two.release();
  });

  it('semaphoreExtendMany renews many holdings on many keys in one call, in order, owner-checked', async () => {
    const prefix = `${randomNamespace()}:`;
    const backend = new RedisBackend({ url: server.url, prefix });
    try {
      const keys = Array.from({ length: 230 }, () => randomKey());
      for (const [i, key] of keys.entries()) {
        const granted = await backend.semaphoreAcquire({
          key,
          owner: `owner-${i}`,
          mode: 'permit',
          count: 1,
          permits: 2,
          ttlMs: 300,
          wait: false,
        });
        expect(granted.acquired).toBe(true);
      }
      await backend.semaphoreRelease({ key: keys[7] as string, owner: 'owner-7' });
      const before = await commandCount('evalsha');
      const results = await backend.semaphoreExtendMany(
        keys.map((key, i) => ({ key, owner: i === 11 ? 'stranger' : `owner-${i}`, ttlMs: 60_000 })),
      );
      // 230 holdings in batches of 100: three script calls.
      expect((await commandCount('evalsha')) - before).toBe(3);
      expect(results.filter((r) => r === 'not-found').length).toBe(2);
      expect(results[7]).toBe('not-found');
      expect(results[11]).toBe('not-found');
      await new Promise((resolve) => setTimeout(resolve, 400));
      const info = await backend.semaphoreInspect(keys[100] as string);
      expect(info?.holders[0]?.remainingMs).toBeGreaterThan(50_000);
      expect(await backend.semaphoreInspect(keys[11] as string)).toBeUndefined();
    } finally {
      await backend.close();
    }
  });

  async function commandCount(command: string): Promise<number> {
    return (await commandCalls(raw))[command] ?? 0;
  }
});
