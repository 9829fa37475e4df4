import { expect, it } from '@jest/globals';
import { isLockError, type LockBackend, type Locker, type LockerOptions } from '@lock/core';
import type { ConformanceTarget } from './conformance-target.js';
import { FaultyBackend } from './faulty-backend.js';
import { randomKey, sleep } from './random.js';

/** What the safety cases need from the conformance suite that runs them. */
export interface SafetyEnv {
  /** The current test's namespace. */
  namespace(): string;
  /** A locker on a fresh backend of the namespace, closed after the test. */
  locker(options?: LockerOptions): Promise<Locker>;
  /** A locker on `backend` (a wrapper around one of the namespace), closed after the test. */
  lockerOn(backend: LockBackend, options?: LockerOptions): Locker;
}

/**
 * Regression cases for the safety bugs of issue #8 that live in core's machinery, run on every
 * backend against its real server. Faults come from {@link FaultyBackend} around the backend's
 * own calls: a reply held back or lost after the request was applied, a request delayed.
 */
export function defineSafetyCases(target: ConformanceTarget, env: SafetyEnv): void {
  const minTtl = target.capabilities?.minTtlMs ?? 300;
  const slack = target.capabilities?.expirySlackMs ?? 50;
  const shortens = target.capabilities?.extendShortensTtl ?? true;
  const faulty = async () => new FaultyBackend(await target.createBackend(env.namespace()));

  it('a renewal confirmed after a shorter extend() cannot stretch the lock (#8.1)', async () => {
    const long = 20_000;
    const short = Math.max(minTtl, 1_000);
    const backend = await faulty();
    const a = env.lockerOn(backend, { ttl: long, keepalive: { interval: 100 } });
    const b = await env.locker();
    const key = randomKey();
    const lock = await a.tryLock(key);
    // A keepalive for the long TTL reaches the server; its confirmation is held back.
    backend.set('hold-reply', 'extendMany');
    await waitFor(() => backend.held >= 1);
    backend.set('none', 'extendMany');
    await lock.extend(short);
    backend.unhang(); // the long renewal's confirmation arrives after the short extend
    await sleep(50);
    expect(lock.remainingMs).toBeLessThanOrEqual(short);
    if (!shortens) return;
    // Renewals stop reaching the server: whoever takes the key next must find us lost by then.
    backend.set('fail', 'extend', 'extendMany');
    const next = await b.lock(key, { timeout: long / 2 });
    expect(lock.held).toBe(false);
    await next.release();
  }, 30_000);

  it('stop() during the first attempt of an election resolves, and onLeader never runs (#8.7)', async () => {
    const backend = await faulty();
    const a = env.lockerOn(backend);
    const key = randomKey();
    backend.set('hold-reply', 'acquire');
    let led = false;
    const election = a.elect(key, {
      onLeader: () => {
        led = true;
      },
    });
    await waitFor(() => backend.held >= 1);
    const stopping = election.stop();
    backend.set('none', 'acquire');
    backend.unhang();
    const outcome = await Promise.race([
      stopping.then(() => 'stopped'),
      sleep(5_000).then(() => 'still running after 5 s'),
    ]);
    expect(outcome).toBe('stopped');
    expect(led).toBe(false);
    expect(await a.inspect(key)).toBeUndefined();
  });

  it('close() waits for a release already under way (#8.10)', async () => {
    const backend = await faulty();
    const errors: unknown[] = [];
    const a = env.lockerOn(backend, { onError: (error) => errors.push(error) });
    const b = await env.locker();
    const key = randomKey();
    const lock = await a.tryLock(key, { ttl: 10_000 });
    backend.set({ delayMs: 200 }, 'release');
    const releasing = lock.release().catch((error: unknown) => error);
    await a.close();
    expect(await releasing).toBeUndefined();
    expect(errors).toEqual([]);
    expect(await b.inspect(key)).toBeUndefined();
  });

  it('close() ends an election and hands its lock over at once (#8.10)', async () => {
    const ttl = 10_000;
    const a = await env.locker({ ttl });
    const b = await env.locker({ ttl });
    const key = randomKey();
    const first = a.elect(key, { onLeader: () => {} });
    await waitFor(() => first.isLeader);
    let secondLeads = false;
    const second = b.elect(key, {
      onLeader: () => {
        secondLeads = true;
      },
    });
    await sleep(100);
    const closedAt = performance.now();
    await a.close();
    await waitFor(() => secondLeads, 5_000);
    expect(performance.now() - closedAt).toBeLessThan(3_000);
    await second.stop();
  });

  it('the lost signal fires at or before the lock’s own validity ends (#8.11)', async () => {
    const a = await env.locker({ keepalive: false });
    // A 1 s TTL gives a 50 ms lead: a timer later than that is a machine far busier than CI.
    for (let trial = 0; trial < 3; trial++) {
      const lock = await a.tryLock(randomKey(), { ttl: Math.max(minTtl, 1_000) });
      const validUntil = lock.validUntil;
      const lostAt = await new Promise<number>((resolve) => {
        if (lock.signal.aborted) resolve(performance.now());
        lock.signal.addEventListener('abort', () => resolve(performance.now()));
      });
      expect(lostAt).toBeLessThanOrEqual(validUntil);
    }
  });

  it('lock() takes at most its timeout, the first attempt included (#8.12)', async () => {
    const backend = await faulty();
    const a = await env.locker();
    const b = env.lockerOn(backend);
    const key = randomKey();
    await a.tryLock(key, { ttl: 10_000 });
    backend.set({ delayMs: 600 }, 'acquire');
    const started = performance.now();
    const error = await b.lock(key, { timeout: 800 }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(isLockError(error, 'TIMEOUT')).toBe(true);
    expect(elapsed).toBeLessThan(800 + 400);
  });

  it('an acquire whose reply was lost is handed back, owner-checked (#8.13)', async () => {
    const backend = await faulty();
    const a = env.lockerOn(backend);
    const b = await env.locker();
    const key = randomKey();
    backend.set('lose-reply', 'acquire');
    const error = await a.tryLock(key, { ttl: 30_000 }).catch((e: unknown) => e);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    const deadline = performance.now() + 3_000 + slack;
    while ((await b.inspect(key)) !== undefined) {
      if (performance.now() > deadline) throw new Error('the lock was still held 3 s later');
      await sleep(20);
    }
  });
}

/** Polls `condition` every 10 ms until it holds, or throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
