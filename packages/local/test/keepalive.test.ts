// Keepalive, expiry and loss in @lock/core, driven deterministically by a ManualClock over the
// real in-process backend (wrapped by FaultyBackend to make renewals fail or hang on demand).
import { describe, expect, it } from '@jest/globals';
import { createLocker, isLockError, type LockerOptions, type RiskEvent } from '@lock/core';
import { ManualClock, settle } from '@lock/core/testing';
import { FaultyBackend } from '@lock/testkit';
import { LocalBackend } from '../src/index.js';

const TTL = 3_000;
const DRIFT = TTL * 0.01 + 2;
/** The loss timer fires this early (5 % of the TTL, 10 to 100 ms) so a late timer is still in time. */
const LEAD = Math.min(100, Math.max(10, TTL * 0.05));

function setup(options: LockerOptions = {}) {
  const clock = new ManualClock(1_000);
  const local = new LocalBackend({ clock });
  const backend = new FaultyBackend(local);
  const locker = createLocker(backend, { clock, ttl: TTL, onError: () => {}, ...options });
  const other = createLocker(new LocalBackend({ store: local.store }), {
    clock,
    onError: () => {},
  });
  return { clock, local, backend, locker, other };
}

describe('keepalive (manual clock)', () => {
  it('keeps a lock for 20 TTLs, renewing all locks of one TTL in one request per tick', async () => {
    const { clock, backend, locker, other } = setup();
    const locks = await Promise.all(Array.from({ length: 100 }, (_, i) => locker.tryLock(`k${i}`)));
    await clock.advanceAsync(TTL * 20, 50);
    expect(locks.every((lock) => lock.held && !lock.signal.aborted)).toBe(true);
    // A tick every TTL/3: about 60 ticks for 100 locks, one batched request each.
    expect(backend.calls.extend).toBeGreaterThanOrEqual(55);
    expect(backend.calls.extend).toBeLessThanOrEqual(61);
    await expect(other.tryLock('k5')).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
  });

  it('with keepalive off, the signal aborts when the TTL (less drift) runs out, early by the loss timer’s lead', async () => {
    const { clock, backend, locker } = setup({ keepalive: false });
    const lock = await locker.tryLock('k');
    const acquiredAt = clock.now();
    expect(lock.validUntil).toBe(acquiredAt + TTL - DRIFT);
    clock.advance(TTL - DRIFT - LEAD - 1);
    expect(lock.signal.aborted).toBe(false);
    clock.advance(1);
    expect(lock.signal.aborted).toBe(true);
    expect(isLockError(lock.signal.reason, 'LOST')).toBe(true);
    expect((lock.signal.reason as { reason: string }).reason).toBe('expired');
    expect(clock.now() - acquiredAt).toBeLessThan(TTL);
    expect(backend.calls.extend).toBe(0);
  });

  it('a hanging renewal: "at risk" first, then loss by the local clock from the last confirmed send time', async () => {
    const risks: RiskEvent[] = [];
    const lostAt: number[] = [];
    const { clock, backend, locker } = setup({
      onRisk: (event) => risks.push(event),
      onLost: () => lostAt.push(clock.now()),
    });
    const lock = await locker.tryLock('k');
    await clock.advanceAsync(TTL / 3 + 1, 1); // first renewal succeeds
    const confirmedSend = clock.now() - 1;
    backend.set('hang', 'extend');
    await clock.advanceAsync(TTL, 1);
    expect(risks.length).toBe(1);
    expect(risks[0]?.remainingMs).toBeGreaterThan(0);
    expect(lostAt.length).toBe(1);
    // Lost no later than the last confirmed renewal's send time + TTL − drift (+ the 1 ms step).
    expect(lostAt[0]).toBeLessThanOrEqual(confirmedSend + TTL - DRIFT + 1);
    expect(lock.signal.aborted).toBe(true);
    // A late reply to a hung renewal never brings the lock back.
    backend.set('none', 'extend');
    backend.unhang();
    await settle();
    expect(lock.held).toBe(false);
  });

  it('a failing renewal is retried sooner, and success clears the risk', async () => {
    const risks: RiskEvent[] = [];
    const { clock, backend, locker } = setup({ onRisk: (event) => risks.push(event) });
    const lock = await locker.tryLock('k');
    backend.set('fail', 'extend');
    await clock.advanceAsync(TTL / 3 + 1, 1);
    expect(lock.atRisk).toBe(true);
    expect(risks.length).toBe(1);
    const callsWhileFailing = backend.calls.extend;
    backend.set('none', 'extend');
    await clock.advanceAsync(TTL / 3, 1);
    expect(backend.calls.extend).toBeGreaterThan(callsWhileFailing);
    expect(lock.atRisk).toBe(false);
    expect(lock.held).toBe(true);
    await clock.advanceAsync(TTL * 3, 10);
    expect(lock.held).toBe(true);
    expect(risks.length).toBe(1);
  });

  it('a renewal the backend refuses aborts at once, long before the TTL', async () => {
    const { clock, local, locker } = setup();
    const lock = await locker.tryLock('k');
    local.store.forceDelete('k');
    await clock.advanceAsync(TTL / 3 + 1, 1);
    expect(lock.signal.aborted).toBe(true);
    expect((lock.signal.reason as { reason: string }).reason).toBe('refused');
    expect((lock.signal.reason as Error).cause).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a holder resumed after a long pause sees its lock as lost the moment it checks', async () => {
    const { clock, locker } = setup();
    const lock = await locker.tryLock('k');
    clock.jump(TTL * 2); // the process was stopped: no timer has run
    expect(lock.signal.aborted).toBe(false); // nobody has looked yet…
    expect(lock.held).toBe(false); // …and the first look sees it lost
    expect(lock.signal.aborted).toBe(true);
    expect(() => lock.assertHeld()).toThrow(expect.objectContaining({ code: 'LOST' }));
    await expect(lock.extend()).rejects.toMatchObject({ code: 'LOST' });
    await expect(lock.release()).rejects.toMatchObject({ code: 'LOST' });
  });

  it('withLock rejects with the lost error when the lock is lost while the routine runs, even if it returns', async () => {
    const { clock, backend, locker } = setup();
    backend.set('hang', 'extend');
    const result = locker.withLock('k', async () => {
      await clock.advanceAsync(TTL, 10);
      return 'produced without the lock';
    });
    await expect(result).rejects.toMatchObject({ code: 'LOST' });
  });

  it('extend(ttl) moves the lock to the new TTL', async () => {
    const { clock, locker } = setup({ keepalive: false });
    const lock = await locker.tryLock('k');
    await lock.extend(TTL * 10);
    expect(lock.ttlMs).toBe(TTL * 10);
    clock.advance(TTL * 5);
    expect(lock.held).toBe(true);
    clock.advance(TTL * 5);
    expect(lock.held).toBe(false);
  });

  it('lock() timeout and FIFO handoff follow the clock', async () => {
    const { clock, locker, other } = setup();
    const held = await locker.tryLock('k');
    const timedOut = other.lock('k', { timeout: 500 }).catch((e: unknown) => e);
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      other.lock('k').then((lock) => {
        order.push(n);
        return lock;
      }),
    );
    await clock.advanceAsync(600, 50);
    expect(isLockError(await timedOut, 'TIMEOUT')).toBe(true);
    await held.release();
    for (const waiter of waiters) await (await waiter).release();
    expect(order).toEqual([1, 2, 3]);
  });
});
