import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocker, type Locker } from '@lock/core';
import { type RunningServer, randomKey, randomNamespace, sleep } from '@lock/testkit';
import { createClient } from 'redis';
import { lockKeys, RedisBackend } from '../src/index.js';
import { commandCalls } from './command-stats.js';
import { redisBinaryAvailable, startOwnRedis } from './redis-server.js';

const available = redisBinaryAvailable();

/**
 * What the hot paths cost Redis, counted by Redis itself (`INFO commandstats`: commands run
 * inside scripts count), so that a regression shows up as a number, not as a slower benchmark.
 * The server is this file's own, so nothing else runs commands on it.
 */
(available ? describe : describe.skip)('redis fast paths (commands counted by the server)', () => {
  let server: RunningServer;
  let raw: ReturnType<typeof createClient>;
  const lockers: Locker[] = [];
  const locker = (prefix: string, options: Record<string, unknown> = {}) => {
    const created = createLocker(
      new RedisBackend({ url: server.url, prefix, checkEvictionPolicy: false, ...options }),
      { onError: () => {} },
    );
    lockers.push(created);
    return created;
  };
  const commands = async (): Promise<Record<string, number>> => {
    const { info: _ownInfo, ...counts } = await commandCalls(raw);
    return counts;
  };
  const since = async (before: Record<string, number>) => {
    const after = await commands();
    const delta: Record<string, number> = {};
    let total = 0;
    for (const [name, calls] of Object.entries(after)) {
      const n = calls - (before[name] ?? 0);
      if (n > 0) {
        delta[name] = n;
        total += n;
      }
    }
    return { delta, total };
  };

  beforeAll(async () => {
    server = await startOwnRedis();
    raw = createClient({ url: server.url });
    await raw.connect();
  });
  afterAll(async () => {
    await Promise.all(lockers.map((l) => l.close()));
    await raw?.close();
    await server?.stop();
  });

  it('inspect and every grant report the holder’s fence while others wait (the waiting flag is not a fence)', async () => {
    const prefix = `${randomNamespace()}:`;
    const key = randomKey();
    const [a, b, c] = [locker(prefix), locker(prefix), locker(prefix)];
    const first = await a.lock(key, { ttl: 10_000 });
    expect((await a.inspect(key))?.fence).toBe(first.fence);
    const second = b.lock(key, { ttl: 10_000, timeout: 10_000 });
    const third = c.lock(key, { ttl: 10_000, timeout: 10_000 });
    await sleep(200); // both queued: the counter carries the waiting flag
    expect((await a.inspect(key))?.fence).toBe(first.fence);
    await first.release();
    const next = await Promise.race([second, third]);
    expect(next.fence).toBeGreaterThan(first.fence);
    expect((await a.inspect(key))?.fence).toBe(next.fence);
    await next.release();
    const last = await (next === (await second) ? third : second);
    expect(last.fence).toBeGreaterThan(next.fence);
    expect((await a.inspect(key))?.fence).toBe(last.fence);
    await last.release();
  });

  it('an uncontended acquire + release costs 6 commands: no queue lookup, no PUBLISH', async () => {
    const l = locker(`${randomNamespace()}:`);
    for (let i = 0; i < 5; i++) await (await l.tryLock('warm-up')).release();
    const before = await commands();
    const pairs = 200;
    for (let i = 0; i < pairs; i++) await (await l.tryLock(`key-${i % 3}`)).release();
    const { delta, total } = await since(before);
    // EVALSHA + SET NX PX GET + INCRBY; EVALSHA + GET + DEL. It was 10, with EXISTS and PUBLISH.
    expect(total / pairs).toBeLessThanOrEqual(6);
    expect(delta['publish']).toBeUndefined();
    expect(delta['exists']).toBeUndefined();
    expect(delta['zrange']).toBeUndefined();
  });

  it('renewing many held locks costs one PEXPIRE per lock, plus two commands per batch', async () => {
    const prefix = `${randomNamespace()}:`;
    const backend = new RedisBackend({ url: server.url, prefix, checkEvictionPolicy: false });
    try {
      const locks = Array.from({ length: 2_000 }, (_, i) => ({
        key: `held-${i}`,
        owner: `me.${i}`,
      }));
      await Promise.all(locks.map((lock) => backend.acquire({ ...lock, ttlMs: 10_000 })));
      // Another owner's lock is never extended.
      await backend.acquire({ key: 'theirs', owner: 'them.1', ttlMs: 10_000 });
      await backend.extendMany([{ key: 'warm-up', owner: 'me.x', ttlMs: 1_000 }]);
      const before = await commands();
      const results = await backend.extendMany([
        ...locks.map((lock) => ({ ...lock, ttlMs: 60_000 })),
        { key: 'theirs', owner: 'me.0', ttlMs: 60_000 },
      ]);
      const { delta, total } = await since(before);
      expect(results.slice(0, -1).every((r) => r === 'ok')).toBe(true);
      expect(results.at(-1)).toBe('forbidden');
      expect(await raw.pTTL(lockKeys(prefix, 'theirs').lock)).toBeLessThanOrEqual(10_000);
      expect(await raw.pTTL(lockKeys(prefix, 'held-7').lock)).toBeGreaterThan(50_000);
      expect(delta['pexpire']).toBe(2_000);
      expect(delta['get']).toBeUndefined();
      // One EVALSHA and one MGET per batch of 500: 5 batches.
      expect(total).toBeLessThanOrEqual(2_000 + 2 * 5);
    } finally {
      await backend.close();
    }
  });

  it('a lock marked as waited for is still its owner’s to extend, inspect and release', async () => {
    const prefix = `${randomNamespace()}:`;
    const a = locker(prefix);
    const b = locker(prefix, { queuePollInterval: 10_000 });
    const key = randomKey();
    const held = await a.tryLock(key, { ttl: 5_000 });
    const waiting = b.lock(key, { timeout: 10_000 });
    await sleep(200);
    // The waiter marked the holder's value; nobody outside sees the mark.
    expect(await raw.get(lockKeys(prefix, key).lock)).toBe(`${held.owner} q`);
    expect((await a.inspect(key))?.holder).toBe(a.identity);
    await held.extend(20_000);
    expect(await raw.pTTL(lockKeys(prefix, key).lock)).toBeGreaterThan(15_000);
    const releasedAt = performance.now();
    await held.release();
    const next = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(2_000);
    expect(next.fence).toBeGreaterThan(held.fence);
    await next.release();
  });

  it('no wake-up is lost when a waiter queues while the holder releases (50 races)', async () => {
    const prefix = `${randomNamespace()}:`;
    const a = locker(prefix);
    // A 30 s safety poll: only the handover (or taking a free lock) can end a wait in time.
    const b = locker(prefix, { queuePollInterval: 30_000, queueEntryTtl: 60_000 });
    for (let i = 0; i < 50; i++) {
      const key = randomKey();
      const held = await a.tryLock(key, { ttl: 30_000 });
      const waiting = b.lock(key, { timeout: 5_000 });
      // Release at a moment anywhere from before the waiter's claim to after it.
      await sleep(i % 5);
      if (i % 2 === 0) await new Promise((resolve) => setImmediate(resolve));
      const releasedAt = performance.now();
      await held.release();
      const next = await waiting;
      expect(performance.now() - releasedAt).toBeLessThan(3_000);
      expect(next.fence).toBeGreaterThan(held.fence);
      await next.release();
    }
  });

  it('a lock that expired under a queued waiter is not taken by a newcomer: the waiter gets it', async () => {
    const prefix = `${randomNamespace()}:`;
    const a = locker(prefix);
    const b = locker(prefix, { queuePollInterval: 30_000, queueEntryTtl: 60_000 });
    const c = locker(prefix);
    const key = randomKey();
    const keys = lockKeys(prefix, key);
    const held = await a.tryLock(key, { ttl: 30_000, keepalive: false });
    const waiting = b.lock(key, { timeout: 10_000 });
    await sleep(200);
    expect(await raw.zCard(keys.queue)).toBe(1);
    // The holder's lock ends without a release (as when it expires): the lock is free while
    // the waiter still sleeps (its next poll is 30 s away).
    await raw.del(keys.lock);
    await expect(c.tryLock(key)).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
    const next = await waiting;
    expect(next.fence).toBeGreaterThan(held.fence);
    await expect(c.tryLock(key)).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
    await next.release();
    // Nobody waits any more: the next acquire is the plain one again, and takes it.
    const before = await commands();
    const again = await c.tryLock(key);
    expect((await since(before)).total).toBe(3);
    expect(again.fence).toBeGreaterThan(next.fence);
    await again.release();
  });

  it('fair: false (deprecated) is fair too: 10 separate lockers on one key all get their turn', async () => {
    const prefix = `${randomNamespace()}:`;
    const workers = Array.from({ length: 10 }, () => locker(prefix, { fair: false }));
    const key = randomKey();
    const counts = workers.map(() => 0);
    const waits: number[] = [];
    let failed = 0;
    const end = performance.now() + 3_000;
    await Promise.all(
      workers.map(async (w, i) => {
        while (performance.now() < end) {
          const asked = performance.now();
          try {
            const lock = await w.lock(key, { timeout: 10_000 });
            waits.push(performance.now() - asked);
            counts[i] = (counts[i] as number) + 1;
            await sleep(1);
            await lock.release();
          } catch {
            failed++;
          }
        }
      }),
    );
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    expect(failed).toBe(0);
    expect(mean).toBeGreaterThan(5);
    for (const count of counts) {
      expect(count).toBeGreaterThanOrEqual(0.5 * mean);
      expect(count).toBeLessThanOrEqual(2 * mean);
    }
    // The target is 1 s; the margin is for a loaded 2-core machine running other tests.
    expect(Math.max(...waits)).toBeLessThan(2_000);
  });
});
