// How core waits, on the real local backend seen through FaultyBackend, which offers `watch`
// but no fair queue: notifications first, backoff with jitter without them, elections.
import { describe, expect, it } from '@jest/globals';
import { createLocker, type LockBackend } from '@lock/core';
import { ManualClock } from '@lock/core/testing';
import { FaultyBackend, sleep } from '@lock/testkit';
import { LocalBackend, LocalStore } from '../src/index.js';

describe('waiting', () => {
  it('wakes on the backend notification, not the poll, and never misses a release between try and wait', async () => {
    const store = new LocalStore(new LocalBackend().store.clock);
    const holder = createLocker(new LocalBackend({ store }));
    const watched = new FaultyBackend(new LocalBackend({ store }));
    const waiter = createLocker(watched, { retry: { pollInterval: 60_000 } });
    const held = await holder.tryLock('k', { ttl: 60_000 });
    let releasedBetween = false;
    watched.afterAcquire = (result) => {
      // Release right after the waiter's failed try, before it goes to sleep.
      if (!result.acquired && !releasedBetween) {
        releasedBetween = true;
        void held.release();
      }
    };
    const started = performance.now();
    const lock = await waiter.lock('k', { timeout: 30_000 });
    expect(releasedBetween).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000); // not the 60 s poll, not the 60 s TTL
    expect(lock.fence).toBeGreaterThan(held.fence);
    await Promise.all([holder.close(), waiter.close()]);
  });

  it('without notifications it retries with jittered, growing backoff, capped by the holder’s remaining TTL', async () => {
    const clock = new ManualClock();
    const store = new LocalStore(clock);
    const holder = createLocker(new LocalBackend({ store }), { clock });
    const plain = new FaultyBackend(new LocalBackend({ store }));
    // No watch, no queue: only the single-attempt operations.
    const polling: LockBackend = {
      name: 'polling',
      acquire: (r) => plain.acquire(r),
      extend: (r) => plain.extend(r),
      release: (r) => plain.release(r),
      inspect: (k) => plain.inspect(k),
      close: () => plain.close(),
    };
    const waiter = createLocker(polling, { clock, retry: { minDelay: 5, maxDelay: 80 } });
    await holder.tryLock('k', { ttl: 1_000, keepalive: false });
    const attempts: number[] = [];
    plain.afterAcquire = () => attempts.push(clock.now());
    const waiting = waiter.lock('k');
    for (let i = 0; i < 150; i++) {
      clock.advance(10);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const lock = await waiting;
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    expect(new Set(gaps).size).toBeGreaterThan(3); // jitter: not one fixed delay
    expect(Math.max(...gaps)).toBeLessThanOrEqual(90);
    // Acquired within a retry of the holder's expiry at t=1000, not at a fixed schedule.
    expect(attempts[attempts.length - 1]).toBeLessThanOrEqual(1_000 + 90);
    expect(lock.held).toBe(true);
  });

  it('a leader whose lock is taken away steps down, and another candidate takes over', async () => {
    const store = new LocalStore(new LocalBackend().store.clock);
    const a = createLocker(new LocalBackend({ store }), { ttl: 300, onError: () => {} });
    const b = createLocker(new LocalBackend({ store }), { ttl: 300, onError: () => {} });
    const events: string[] = [];
    const ea = a.elect('leader', {
      onLeader: (signal) => {
        events.push('a leads');
        signal.addEventListener('abort', () => events.push('a steps down'));
      },
      onFollower: () => {
        events.push('a follows');
      },
    });
    await sleep(50);
    const eb = b.elect('leader', {
      onLeader: () => void events.push('b leads'),
      onFollower: () => void events.push('b follows'),
    });
    await sleep(50);
    expect(ea.isLeader).toBe(true);
    store.forceDelete('leader');
    const deletedAt = performance.now();
    for (let i = 0; i < 100 && !events.includes('a steps down'); i++) await sleep(10);
    // a learns at its next renewal (every TTL/3), well within one TTL.
    expect(performance.now() - deletedAt).toBeLessThan(300);
    for (let i = 0; i < 100 && !events.includes('b leads'); i++) await sleep(10);
    expect(events.indexOf('a steps down')).toBeGreaterThan(-1);
    expect(events.indexOf('b leads')).toBeGreaterThan(events.indexOf('a leads'));
    expect(eb.isLeader).toBe(true);
    await Promise.all([ea.stop(), eb.stop()]);
    await Promise.all([a.close(), b.close()]);
  });
});
