import { describe, expect, it } from '@jest/globals';
import {
  isLockError,
  type LockBackend,
  type Locker,
  type LockerOptions,
  MAX_PERMITS,
  type PermitHandle,
  semaphoreOpsOf,
  systemClock,
} from '@lock/core';
import type { ConformanceTarget } from './conformance-target.js';
import { randomKey, sleep } from './random.js';

/** What the semaphore sections need from the conformance suite that runs them. */
export interface SemaphoreEnv {
  /** The current test's namespace. */
  namespace(): string;
  /** A locker on a fresh backend of the namespace, closed after the test. */
  locker(options?: LockerOptions): Promise<Locker>;
  /** A locker on `backend` (a wrapper around one of the namespace), closed after the test. */
  lockerOn(backend: LockBackend, options?: LockerOptions): Locker;
}

/** Resolves with a handle's loss reason once its signal aborts. */
function lostReason(handle: PermitHandle): Promise<unknown> {
  return new Promise((resolve) => {
    if (handle.signal.aborted) resolve(handle.signal.reason);
    handle.signal.addEventListener('abort', () => resolve(handle.signal.reason));
  });
}

/** Polls the async `condition` every 10 ms until it holds, or throws after `timeoutMs`. */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Random integer in `[min, max]`. */
function between(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

const BACKEND_METHODS = [
  'acquire',
  'extend',
  'release',
  'inspect',
  'close',
  'connect',
  'extendMany',
  'watch',
  'acquireQueued',
  'semaphoreAcquire',
  'semaphoreExtend',
  'semaphoreExtendMany',
  'semaphoreRelease',
  'semaphoreInspect',
  'readRecord',
  'writeRecord',
] as const;

/**
 * A backend whose next semaphore acquire is applied but whose reply is lost (the native method,
 * or the fallback's record write), to check that core hands back what it may have taken.
 */
function losingNextAcquireReply(backend: LockBackend): LockBackend {
  let armed = true;
  const lose =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await call(...args);
      if (armed) {
        armed = false;
        throw new Error('reply lost (injected)');
      }
      return result;
    };
  // Bound copies, not a prototype chain: backends keep state in private fields.
  const wrapped: Record<string, unknown> = { name: backend.name };
  for (const name of BACKEND_METHODS) {
    const method = (backend as unknown as Record<string, unknown>)[name];
    if (typeof method === 'function') wrapped[name] = method.bind(backend);
  }
  if (backend.semaphoreAcquire !== undefined) {
    wrapped['semaphoreAcquire'] = lose(backend.semaphoreAcquire.bind(backend));
  } else if (backend.writeRecord !== undefined) {
    wrapped['writeRecord'] = lose(backend.writeRecord.bind(backend));
  }
  return wrapped as unknown as LockBackend;
}

/**
 * The semaphore and read-write lock sections of the conformance suite (issue #15), for a
 * backend that serves them (`capabilities.semaphores`): safety by certain-hold windows under
 * random load, fairness, fences, takeover after a crashed holder, owner checks, the loss signal,
 * and bad input.
 */
export function defineSemaphoreCases(target: ConformanceTarget, env: SemaphoreEnv): void {
  const minTtl = target.capabilities?.minTtlMs ?? 300;
  const slack = target.capabilities?.expirySlackMs ?? 50;

  describe('semaphore', () => {
    it('never more than N permits held by certain-hold windows (lockers, random counts and timing)', async () => {
      const permits = 4;
      const lockers = await Promise.all([env.locker(), env.locker(), env.locker()]);
      const key = randomKey('sem');
      let inUse = 0;
      let maxInUse = 0;
      let grants = 0;
      const fences = new Set<number>();
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          await sleep(between(0, 30));
          const semaphore = (lockers[i % lockers.length] as Locker).semaphore(key, { permits });
          const count = between(1, permits);
          const permit = await semaphore.acquire({ count, timeout: 60_000 });
          // The certain-hold window: from the grant to the release, while `held` is true.
          expect(permit.held).toBe(true);
          inUse += count;
          maxInUse = Math.max(maxInUse, inUse);
          grants += 1;
          expect(fences.has(permit.fence)).toBe(false);
          fences.add(permit.fence);
          await sleep(between(0, 15));
          expect(permit.held).toBe(true);
          inUse -= count;
          await permit.release();
        }),
      );
      expect(grants).toBe(40);
      expect(maxInUse).toBeLessThanOrEqual(permits);
      expect(maxInUse).toBeGreaterThan(1); // the permits were shared, not taken one at a time
      expect(await lockers[0]?.semaphore(key, { permits }).inspect()).toBeUndefined();
    }, 90_000);

    it('fences strictly grow across every grant, from several lockers', async () => {
      const lockers = [await env.locker(), await env.locker()];
      const key = randomKey('sem');
      let last = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < 60; i++) {
        const semaphore = (lockers[i % 2] as Locker).semaphore(key, { permits: 2 });
        const permit = await semaphore.tryAcquire({ count: between(1, 2) });
        expect(permit.fence).toBeGreaterThan(last);
        last = permit.fence;
        await permit.release();
      }
    }, 60_000);

    it('FIFO: a waiter asking for many is not passed by later callers asking for few', async () => {
      const a = await env.locker();
      const b = await env.locker();
      const c = await env.locker();
      const key = randomKey('sem');
      const held = await a.semaphore(key, { permits: 3 }).tryAcquire({ count: 2 });
      const big = b.semaphore(key, { permits: 3 }).acquire({ count: 3, timeout: 20_000 });
      big.catch(() => {}); // awaited below; if the test fails first, it rejects on close
      await waitUntil(
        async () => (await a.semaphore(key, { permits: 3 }).inspect())?.waiting === 1,
      );
      // One permit is free, but the waiter ahead needs three: a newcomer must not take it.
      await expect(c.semaphore(key, { permits: 3 }).tryAcquire({ count: 1 })).rejects.toMatchObject(
        { code: 'NOT_ACQUIRED' },
      );
      const small = c.semaphore(key, { permits: 3 }).acquire({ count: 1, timeout: 20_000 });
      small.catch(() => {});
      await sleep(100);
      const order: string[] = [];
      const bigDone = big.then((p) => {
        order.push('big');
        return p;
      });
      const smallDone = small.then((p) => {
        order.push('small');
        return p;
      });
      // If an expectation fails, these reject when the test's lockers close: not unhandled.
      for (const pending of [bigDone, smallDone]) pending.catch(() => {});
      await held.release();
      const bigPermit = await bigDone;
      expect(order).toEqual(['big']);
      expect(bigPermit.fence).toBeGreaterThan(held.fence);
      await bigPermit.release();
      const smallPermit = await smallDone;
      expect(order).toEqual(['big', 'small']);
      expect(smallPermit.fence).toBeGreaterThan(bigPermit.fence);
      await smallPermit.release();
    }, 30_000);

    it('a holder that stops renewing (a crashed process) frees its permits after its TTL', async () => {
      const crashed = await env.locker({ keepalive: false });
      const waiter = await env.locker();
      const key = randomKey('sem');
      const ttl = Math.max(minTtl, 600);
      const held = await crashed.semaphore(key, { permits: 2 }).tryAcquire({ count: 2, ttl });
      const started = performance.now();
      const taken = await waiter
        .semaphore(key, { permits: 2 })
        .acquire({ count: 1, timeout: 4 * ttl + slack + 5_000 });
      // The fallback's observer counts a TTL from when it first saw the entry: up to 2 TTLs.
      expect(performance.now() - started).toBeLessThan(2 * ttl + slack + 2_000);
      expect(held.held).toBe(false);
      expect(isLockError(await lostReason(held), 'LOST')).toBe(true);
      expect(taken.fence).toBeGreaterThan(held.fence);
      await taken.release();
    }, 30_000);

    it('a locker closed without releasing hands its permits back, and a closed locker cannot acquire', async () => {
      const gone = await env.locker();
      const other = await env.locker();
      const key = randomKey('sem');
      await gone.semaphore(key, { permits: 1 }).tryAcquire();
      const waiting = other.semaphore(key, { permits: 1 }).acquire({ timeout: 10_000 });
      await gone.close();
      const next = await waiting;
      expect(next.held).toBe(true);
      await next.release();
      expect(() => gone.semaphore(key, { permits: 1 })).toThrow(/closed/);
    }, 20_000);

    it('keepalive holds permits across more than 5 TTLs; extend and release are owner-checked', async () => {
      const ttl = Math.max(minTtl, 600);
      const a = await env.locker({ ttl });
      const key = randomKey('sem');
      const permit = await a.semaphore(key, { permits: 1 }).tryAcquire();
      await sleep(ttl * 5.5);
      expect(permit.held).toBe(true);
      await permit.extend();
      const backend = await target.createBackend(env.namespace());
      try {
        const ops = semaphoreOpsOf(backend, systemClock);
        const intruder = { key, owner: `${permit.identity}.not-the-secret` };
        await expect(ops.extend({ ...intruder, ttlMs: 1_000 })).resolves.toBe('not-found');
        await expect(ops.release(intruder)).resolves.toBe('not-found');
        expect(permit.held).toBe(true);
        const info = await a.semaphore(key, { permits: 1 }).inspect();
        expect(info).toMatchObject({ kind: 'semaphore', permits: 1, inUse: 1, waiting: 0 });
        expect(info?.holders[0]).toMatchObject({ holder: permit.identity, count: 1 });
        await permit.release();
        await expect(ops.release({ key, owner: permit.owner })).resolves.toBe('not-found');
        await expect(ops.extend({ key, owner: permit.owner, ttlMs: 1_000 })).resolves.toBe(
          'not-found',
        );
        await expect(permit.release()).resolves.toBeUndefined();
      } finally {
        await backend.close();
      }
    }, 30_000);

    it('loss is signalled within one TTL when the permit is taken away behind the holder', async () => {
      const ttl = Math.max(minTtl, 600);
      const a = await env.locker({ ttl });
      const key = randomKey('sem');
      const permit = await a.semaphore(key, { permits: 2 }).tryAcquire();
      const backend = await target.createBackend(env.namespace());
      try {
        await semaphoreOpsOf(backend, systemClock).release({ key, owner: permit.owner });
      } finally {
        await backend.close();
      }
      const started = performance.now();
      const reason = await lostReason(permit);
      expect(performance.now() - started).toBeLessThan(ttl + slack);
      expect(isLockError(reason, 'LOST')).toBe(true);
      expect(permit.held).toBe(false);
      await expect(permit.release()).rejects.toMatchObject({ code: 'LOST' });
    }, 20_000);

    it('a wait that times out or is aborted leaves the line, and an acquire whose reply was lost is handed back', async () => {
      const a = await env.locker();
      const b = await env.locker();
      const key = randomKey('sem');
      const held = await a.semaphore(key, { permits: 2 }).tryAcquire({ count: 1 });
      const failures: { code: string; attempts: number }[] = [];
      b.on('acquire-failed', (event) => failures.push(event));
      const error = await b
        .semaphore(key, { permits: 2 })
        .acquire({ count: 2, timeout: 200 })
        .catch((e: unknown) => e);
      expect(isLockError(error, 'TIMEOUT')).toBe(true);
      expect(failures[0]).toMatchObject({ key, code: 'TIMEOUT' });
      expect(failures[0]?.attempts).toBeGreaterThanOrEqual(1);
      const controller = new AbortController();
      const aborted = b
        .semaphore(key, { permits: 2 })
        .acquire({ count: 2, signal: controller.signal })
        .catch((e: unknown) => e);
      await sleep(50);
      controller.abort();
      expect(isLockError(await aborted, 'ABORTED')).toBe(true);
      // Nobody is left in line ahead of a newcomer who fits.
      await waitUntil(
        async () => (await a.semaphore(key, { permits: 2 }).inspect())?.waiting === 0,
        5_000,
      );
      const second = await b.semaphore(key, { permits: 2 }).tryAcquire({ count: 1 });
      await second.release();
      await held.release();
      const losing = env.lockerOn(
        losingNextAcquireReply(await target.createBackend(env.namespace())),
      );
      const lostReply = await losing
        .semaphore(key, { permits: 2 })
        .tryAcquire({ count: 2, ttl: 30_000 })
        .catch((e: unknown) => e);
      expect(isLockError(lostReply, 'BACKEND')).toBe(true);
      await waitUntil(
        async () => (await a.semaphore(key, { permits: 2 }).inspect()) === undefined,
        3_000 + slack,
      );
    }, 30_000);

    it('rejects bad input with INVALID_ARGUMENT naming the value and the rule, before any I/O', async () => {
      const a = await env.locker();
      const key = randomKey('sem');
      const bad: [string, () => unknown][] = [
        ['permits 0', () => a.semaphore(key, { permits: 0 })],
        ['negative permits', () => a.semaphore(key, { permits: -2 })],
        ['non-integer permits', () => a.semaphore(key, { permits: 1.5 })],
        ['NaN permits', () => a.semaphore(key, { permits: Number.NaN })],
        ['string permits', () => a.semaphore(key, { permits: '3' as never })],
        ['permits above the maximum', () => a.semaphore(key, { permits: MAX_PERMITS + 1 })],
        ['no options', () => a.semaphore(key, undefined as never)],
        ['unknown option', () => a.semaphore(key, { permits: 2, count: 1 } as never)],
        ['empty key', () => a.semaphore('', { permits: 2 })],
        ['empty read-write key', () => a.readWriteLock('')],
        ['count 0', () => a.semaphore(key, { permits: 2 }).tryAcquire({ count: 0 })],
        ['non-integer count', () => a.semaphore(key, { permits: 2 }).acquire({ count: 1.5 })],
        ['count above permits', () => a.semaphore(key, { permits: 2 }).acquire({ count: 3 })],
        ['negative count', () => a.semaphore(key, { permits: 2 }).tryAcquire({ count: -1 })],
        ['bad ttl', () => a.semaphore(key, { permits: 2 }).tryAcquire({ ttl: 0 })],
        ['bad timeout', () => a.semaphore(key, { permits: 2 }).acquire({ timeout: -1 })],
        ['unknown acquire option', () => a.readWriteLock(key).read({ count: 2 } as never)],
      ];
      for (const [name, call] of bad) {
        let error: unknown;
        try {
          await call();
        } catch (e) {
          error = e;
        }
        expect([name, isLockError(error, 'INVALID_ARGUMENT')]).toEqual([name, true]);
      }
      let named: Error | undefined;
      try {
        a.semaphore(key, { permits: 1.5 });
      } catch (e) {
        named = e as Error;
      }
      expect(named?.message).toContain('options.permits');
      expect(named?.message).toContain('1.5');
      const count = await a
        .semaphore(key, { permits: 2 })
        .tryAcquire({ count: 3 })
        .catch((e: unknown) => e as Error);
      expect((count as Error).message).toMatch(/options\.count.*2 permits.*3/);
      expect(await a.semaphore(key, { permits: 2 }).inspect()).toBeUndefined();
      // A key in use keeps its permit count and its kind.
      const held = await a.semaphore(key, { permits: 3 }).tryAcquire();
      const mismatch = await a
        .semaphore(key, { permits: 4 })
        .tryAcquire()
        .catch((e: unknown) => e);
      expect(isLockError(mismatch, 'INVALID_ARGUMENT')).toBe(true);
      expect((mismatch as Error).message).toMatch(/has 3/);
      const waitMismatch = await a
        .semaphore(key, { permits: 2 })
        .acquire({ timeout: 1_000 })
        .catch((e: unknown) => e);
      expect(isLockError(waitMismatch, 'INVALID_ARGUMENT')).toBe(true);
      const kind = await a
        .readWriteLock(key)
        .tryRead()
        .catch((e: unknown) => e);
      expect(isLockError(kind, 'INVALID_ARGUMENT')).toBe(true);
      expect((kind as Error).message).toMatch(/semaphore of 3 permits/);
      await held.release();
      // Idle again: the next caller may set a new count; fences keep growing.
      const renewed = await a.semaphore(key, { permits: 4 }).tryAcquire({ count: 4 });
      expect(renewed.fence).toBeGreaterThan(held.fence);
      await renewed.release();
    }, 30_000);
  });

  describe('read-write lock', () => {
    it('one writer or readers only, by certain-hold windows (lockers, random mix and timing)', async () => {
      const lockers = await Promise.all([env.locker(), env.locker(), env.locker()]);
      const key = randomKey('rw');
      let readers = 0;
      let writers = 0;
      let maxReaders = 0;
      let violations = 0;
      const fences = new Set<number>();
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          await sleep(between(0, 30));
          const rw = (lockers[i % lockers.length] as Locker).readWriteLock(key);
          const writing = Math.random() < 0.3;
          const hold = writing
            ? await rw.write({ timeout: 60_000 })
            : await rw.read({ timeout: 60_000 });
          expect(hold.held).toBe(true);
          expect(fences.has(hold.fence)).toBe(false);
          fences.add(hold.fence);
          if (writing) writers += 1;
          else readers += 1;
          if (writers > 1 || (writers > 0 && readers > 0)) violations += 1;
          maxReaders = Math.max(maxReaders, readers);
          await sleep(between(0, 15));
          expect(hold.held).toBe(true);
          if (writing) writers -= 1;
          else readers -= 1;
          await hold.release();
        }),
      );
      expect(violations).toBe(0);
      expect(maxReaders).toBeGreaterThan(1); // reads did share
      expect(fences.size).toBe(40);
    }, 90_000);

    it('a waiting writer blocks new readers; fences grow across reads and writes', async () => {
      const a = await env.locker();
      const b = await env.locker();
      const c = await env.locker();
      const key = randomKey('rw');
      const firstRead = await a.readWriteLock(key).tryRead();
      const secondRead = await c.readWriteLock(key).tryRead(); // readers share
      await secondRead.release();
      const writer = b.readWriteLock(key).write({ timeout: 20_000 });
      writer.catch(() => {}); // awaited below; if the test fails first, it rejects on close
      await waitUntil(async () => (await a.readWriteLock(key).inspect())?.waiting === 1);
      await expect(c.readWriteLock(key).tryRead()).rejects.toMatchObject({
        code: 'NOT_ACQUIRED',
      });
      const order: string[] = [];
      const lateReader = c
        .readWriteLock(key)
        .read({ timeout: 20_000 })
        .then((hold) => {
          order.push('read');
          return hold;
        });
      const writing = writer.then((hold) => {
        order.push('write');
        return hold;
      });
      // If an expectation fails, these reject when the test's lockers close: not unhandled.
      for (const pending of [writing, lateReader]) pending.catch(() => {});
      await sleep(100);
      expect(order).toEqual([]);
      await firstRead.release();
      const write = await writing;
      expect(order).toEqual(['write']);
      expect(write.mode).toBe('write');
      expect(write.fence).toBeGreaterThan(secondRead.fence);
      const info = await a.readWriteLock(key).inspect();
      expect(info).toMatchObject({ kind: 'read-write', waiting: 1 });
      expect(info?.holders).toHaveLength(1);
      expect(info?.holders[0]).toMatchObject({ mode: 'write', holder: write.identity });
      await expect(a.readWriteLock(key).tryWrite()).rejects.toMatchObject({
        code: 'NOT_ACQUIRED',
      });
      await write.release();
      const read = await lateReader;
      expect(read.mode).toBe('read');
      expect(read.fence).toBeGreaterThan(write.fence);
      await read.release();
    }, 30_000);

    it('a crashed writer frees the lock after its TTL; await using releases a read', async () => {
      const crashed = await env.locker({ keepalive: false });
      const reader = await env.locker();
      const key = randomKey('rw');
      const ttl = Math.max(minTtl, 600);
      const write = await crashed.readWriteLock(key).tryWrite({ ttl });
      {
        await using read = await reader
          .readWriteLock(key)
          .read({ timeout: 4 * ttl + slack + 5_000 });
        expect(write.held).toBe(false);
        expect(read.fence).toBeGreaterThan(write.fence);
      }
      expect(await reader.readWriteLock(key).inspect()).toBeUndefined();
    }, 30_000);
  });
}
