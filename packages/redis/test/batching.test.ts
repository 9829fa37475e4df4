import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocker, isLockError, type Locker, type LockHandle } from '@lock/core';
import { type RunningServer, randomKey, randomNamespace } from '@lock/testkit';
import { createClient } from 'redis';
import { lockKeys, RedisBackend } from '../src/index.js';
import { scriptRuns } from './command-stats.js';
import { redisAvailable, startOwnRedis } from './redis-server.js';

const available = redisAvailable();

(available ? describe : describe.skip)('calls made in the same tick share one script run', () => {
  let server: RunningServer;
  let raw: ReturnType<typeof createClient>;
  const lockers: Locker[] = [];
  const locker = (fair: boolean) => {
    const created = createLocker(
      new RedisBackend({ url: server.url, prefix: `${randomNamespace()}:`, fair }),
      { ttl: 30_000, onError: () => {} },
    );
    lockers.push(created);
    return created;
  };

  beforeAll(async () => {
    // Its own server: the test counts every script the server runs.
    server = await startOwnRedis();
    raw = createClient({ url: server.url });
    await raw.connect();
  });
  afterAll(async () => {
    await Promise.all(lockers.map((l) => l.close()));
    await raw?.close();
    await server?.stop();
  });

  for (const fair of [false, true]) {
    const mode = fair ? 'fair' : 'unfair';

    it(`${mode}: 50 acquires and 50 releases in one tick are 2 script runs, each lock with its own result`, async () => {
      const l = locker(fair);
      // Connected, and the batched scripts loaded (a first run costs a NOSCRIPT reply and an EVAL).
      const warm = await Promise.all([l.tryLock(randomKey()), l.tryLock(randomKey())]);
      await Promise.all(warm.map((h) => h.release()));
      const keys = Array.from({ length: 50 }, () => randomKey());
      const before = await scriptRuns(raw);
      const handles = await Promise.all(keys.map((key) => l.tryLock(key)));
      await Promise.all(handles.map((h) => h.release()));
      const runs = (await scriptRuns(raw)) - before;
      expect(runs).toBe(2);
      expect(handles.map((h) => h.key)).toEqual(keys);
      expect(new Set(handles.map((h) => h.owner)).size).toBe(50);
      for (const key of keys) expect(await l.inspect(key)).toBeUndefined();
    });

    it(`${mode}: two contenders for one key in one tick: exactly one wins, the other learns who holds it`, async () => {
      const l = locker(fair);
      const key = randomKey();
      const [a, b] = await Promise.allSettled([l.tryLock(key), l.tryLock(key)]);
      const won = [a, b].filter((r) => r.status === 'fulfilled');
      const lost = [a, b].filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const error = (lost[0] as PromiseRejectedResult).reason;
      expect(isLockError(error, 'NOT_ACQUIRED')).toBe(true);
      const holder = (won[0] as PromiseFulfilledResult<LockHandle>).value;
      expect((error as { remainingMs?: number }).remainingMs).toBeGreaterThan(0);
      await holder.release();
    });

    it(`${mode}: a release and a later acquire of the same key in one tick keep their order`, async () => {
      const l = locker(fair);
      const key = randomKey();
      const first = await l.tryLock(key);
      // Another key's acquire opens the tick's batch first; order must still hold for `key`.
      const other = l.tryLock(randomKey());
      const released = first.release();
      const second = l.tryLock(key);
      await released;
      const next = await second;
      expect(next.fence).toBeGreaterThan(first.fence);
      await next.release();
      await (await other).release();
    });

    it(`${mode}: fences of one key grow across batched acquisitions`, async () => {
      const l = locker(fair);
      const key = randomKey();
      const fences: number[] = [];
      for (let round = 0; round < 5; round++) {
        const batch = await Promise.allSettled([l.tryLock(key), l.tryLock(key), l.tryLock(key)]);
        const held = batch.filter((r) => r.status === 'fulfilled');
        expect(held).toHaveLength(1);
        const handle = (held[0] as PromiseFulfilledResult<LockHandle>).value;
        fences.push(handle.fence);
        await handle.release();
      }
      for (let i = 1; i < fences.length; i++) {
        expect(fences[i]).toBeGreaterThan(fences[i - 1] as number);
      }
    });
  }

  for (const fair of [false, true]) {
    it(`${fair ? 'fair' : 'unfair'}: a lock whose fence key holds the wrong type fails alone, leaving nothing locked; its batch-mates are taken`, async () => {
      const prefix = `${randomNamespace()}:`;
      const l = createLocker(new RedisBackend({ url: server.url, prefix, fair }), {
        ttl: 30_000,
        onError: () => {},
      });
      lockers.push(l);
      const broken = randomKey();
      await raw.lPush(lockKeys(prefix, broken).fence, 'not a counter'); // INCR will fail on it
      const keys = [randomKey(), broken, randomKey()];
      const results = await Promise.allSettled(keys.map((key) => l.tryLock(key)));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const error = (results[1] as PromiseRejectedResult).reason;
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect(String((error as Error).message)).toMatch(/WRONGTYPE/);
      const taken = results.filter(
        (r) => r.status === 'fulfilled',
      ) as PromiseFulfilledResult<LockHandle>[];
      await Promise.all(taken.map((r) => r.value.release()));
      for (const key of [keys[0], keys[2]]) expect(await l.inspect(key as string)).toBeUndefined();
      expect(await raw.exists(lockKeys(prefix, broken).lock)).toBe(0); // not left locked
    });
  }

  for (const fair of [false, true]) {
    it(`${fair ? 'fair' : 'unfair'}: a lone acquire whose fence key holds the wrong type fails, leaving nothing locked`, async () => {
      const prefix = `${randomNamespace()}:`;
      const l = createLocker(new RedisBackend({ url: server.url, prefix, fair }), {
        ttl: 30_000,
        onError: () => {},
      });
      lockers.push(l);
      const broken = randomKey();
      await raw.lPush(lockKeys(prefix, broken).fence, 'not a counter');
      const error = await l.tryLock(broken).catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect(String((error as Error).message)).toMatch(/WRONGTYPE/);
      // Not left locked, at once (not only after a background clean-up).
      expect(await raw.exists(lockKeys(prefix, broken).lock)).toBe(0);
    });
  }

  it('fair: a batched first attempt does not jump a live queue', async () => {
    // Same prefix for both: one lock, seen by two lockers.
    const shared = `${randomNamespace()}:`;
    const one = createLocker(new RedisBackend({ url: server.url, prefix: shared }), {
      ttl: 30_000,
      onError: () => {},
    });
    const two = createLocker(new RedisBackend({ url: server.url, prefix: shared }), {
      ttl: 30_000,
      onError: () => {},
    });
    lockers.push(one, two);
    const key = randomKey();
    const held = await one.tryLock(key);
    const queued = two.lock(key, { timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 200)); // `two` is in the queue
    await held.release(); // handed to `two`
    // Batched with another key's attempt in the same tick: still refused, `two` holds it.
    const [mine, other] = await Promise.allSettled([one.tryLock(key), one.tryLock(randomKey())]);
    expect(mine.status).toBe('rejected');
    expect(other.status).toBe('fulfilled');
    const winner = await queued;
    expect(winner.fence).toBeGreaterThan(held.fence);
    await winner.release();
    await (other as PromiseFulfilledResult<LockHandle>).value.release();
  });
});
