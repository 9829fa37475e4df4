// Core's semaphore fallback over a compare-and-set record: which clock decides expiry. Two
// processes are two RecordSemaphores with clocks of their own, on one in-memory record table.
import { describe, expect, it } from '@jest/globals';
import { systemClock } from '../src/clock.js';
import type { LockBackend, SemaphoreAcquireRequest, VersionedRecord } from '../src/index.js';
import { ManualClock } from '../src/manual-clock.js';
import { RecordSemaphores } from '../src/semaphore-record.js';

/** One record table, as a memcached server or a document collection would hold it. */
function recordBackend(): LockBackend & { writes: number; forget(): void } {
  const records = new Map<string, { value: string; version: number }>();
  let version = 0;
  const unused = () => Promise.reject(new Error('not used'));
  return {
    name: 'records',
    writes: 0,
    forget: () => records.clear(),
    acquire: unused,
    extend: unused,
    release: unused,
    inspect: unused,
    close: async () => {},
    async readRecord(key: string): Promise<VersionedRecord | undefined> {
      const record = records.get(key);
      return record && { value: record.value, version: String(record.version) };
    },
    async writeRecord(key: string, value: string, expected: string | undefined) {
      const current = records.get(key);
      const matches =
        expected === undefined ? current === undefined : String(current?.version) === expected;
      if (!matches) return 'conflict';
      version += 1;
      this.writes += 1;
      records.set(key, { value, version });
      return 'ok';
    },
  };
}

const request = (owner: string, count: number, ttlMs = 1_000): SemaphoreAcquireRequest => ({
  key: 'k',
  owner,
  mode: 'permit',
  count,
  permits: 2,
  ttlMs,
  wait: false,
});

describe('RecordSemaphores: expiry by observation on the observer’s own monotonic clock', () => {
  it('ignores clock skew: an observer frees a silent holder one TTL after it first saw it, whatever else was written', async () => {
    const backend = recordBackend();
    const holderClock = new ManualClock(0);
    const observerClock = new ManualClock(3_600_000); // an hour apart: it must not matter
    const holder = new RecordSemaphores(backend, holderClock);
    const observer = new RecordSemaphores(backend, observerClock);
    const first = await holder.acquire(request('a', 2));
    expect(first).toMatchObject({ acquired: true });
    const firstFence = (first as { fence: number }).fence;
    observerClock.advance(500); // the observer looks for the first time now
    await expect(observer.acquire(request('b', 1))).resolves.toMatchObject({ acquired: false });
    // A third process joins the line: the record changes, the holder's entry does not, and the
    // observer's count for it goes on.
    const third = new RecordSemaphores(backend, new ManualClock(-5_000));
    await third.acquire({ ...request('x', 1), wait: true });
    observerClock.advance(999);
    await expect(observer.acquire(request('b', 1))).resolves.toMatchObject({
      acquired: false,
      retryAfterMs: 1,
    });
    observerClock.advance(1);
    // x, first in line, is reserved its permit; b's fits beside it.
    await expect(observer.acquire(request('b', 1))).resolves.toEqual({
      acquired: true,
      fence: firstFence + 1,
    });
  });

  it('a renewal restarts an observer’s count from when it first sees the new stamp', async () => {
    const backend = recordBackend();
    const holderClock = new ManualClock(0);
    const observerClock = new ManualClock(0);
    const holder = new RecordSemaphores(backend, holderClock);
    const observer = new RecordSemaphores(backend, observerClock);
    await holder.acquire(request('a', 2));
    await observer.acquire(request('b', 1)); // first seen at 0
    // Another holder's write (b joins the line) changes the record but not a's entry.
    await observer.acquire({ ...request('b', 1), wait: true });
    observerClock.advance(800);
    holderClock.advance(800);
    await expect(holder.extend({ key: 'k', owner: 'a', ttlMs: 1_000 })).resolves.toBe('ok');
    // 1,200 after a's first stamp was first seen: but the observer sees the renewed stamp for the
    // first time now, and counts its TTL from here.
    observerClock.advance(400);
    await expect(observer.acquire(request('c', 1))).resolves.toMatchObject({ acquired: false });
    observerClock.advance(999);
    await expect(observer.acquire(request('c', 1))).resolves.toMatchObject({ acquired: false });
    observerClock.advance(1);
    await expect(observer.acquire(request('c', 1))).resolves.toMatchObject({ acquired: true });
    await expect(holder.extend({ key: 'k', owner: 'a', ttlMs: 1_000 })).resolves.toBe('not-found');
  });

  it('a denied caller that is already in line does not rewrite the record each time', async () => {
    const backend = recordBackend();
    const clock = new ManualClock(0);
    const semaphores = new RecordSemaphores(backend, clock);
    await semaphores.acquire(request('a', 2, 30_000));
    await semaphores.acquire({ ...request('b', 1, 3_000), wait: true });
    const writes = backend.writes;
    for (let i = 0; i < 10; i++) {
      clock.advance(50);
      await semaphores.acquire({ ...request('b', 1, 3_000), wait: true });
    }
    expect(backend.writes).toBe(writes);
    clock.advance(1_000); // a third of b's TTL has passed: its place is refreshed once
    await semaphores.acquire({ ...request('b', 1, 3_000), wait: true });
    expect(backend.writes).toBe(writes + 1);
  });

  it('a keepalive tick of many permits of one key is one read and one write per key (extendMany)', async () => {
    const backend = recordBackend();
    const clock = new ManualClock(0);
    const semaphores = new RecordSemaphores(backend, clock);
    const owners = Array.from({ length: 100 }, (_, i) => `o${i}`);
    for (const owner of owners) {
      await semaphores.acquire({ ...request(owner, 1), key: 'many', permits: 100 });
    }
    await semaphores.acquire({ ...request('other', 1), key: 'k' });
    const writes = backend.writes;
    clock.advance(400);
    const results = await semaphores.extendMany([
      ...owners.map((owner) => ({ key: 'many', owner, ttlMs: 1_000 })),
      { key: 'k', owner: 'other', ttlMs: 1_000 },
      { key: 'many', owner: 'gone', ttlMs: 1_000 },
    ]);
    expect(results).toEqual([...owners.map(() => 'ok'), 'ok', 'not-found']);
    // Before extendMany, each extend was a compare-and-set of its own on the same record.
    expect(backend.writes).toBe(writes + 2);
    // Every permit was renewed: still held 900 ms later (1,300 after the grants).
    clock.advance(900);
    const info = await semaphores.inspect('many');
    expect(info?.holders).toHaveLength(100);
    expect(info?.holders.every((h) => h.remainingMs === 100)).toBe(true);
  });

  it('400 concurrent calls of one process on one key share compare-and-set rounds instead of racing', async () => {
    const backend = recordBackend();
    const semaphores = new RecordSemaphores(backend, systemClock);
    const owners = Array.from({ length: 400 }, (_, i) => `o${i}`);
    const many = (owner: string) => ({ ...request(owner, 1), key: 'many', permits: 400 });
    const granted = await Promise.all(owners.map((owner) => semaphores.acquire(many(owner))));
    expect(granted.every((reply) => reply.acquired)).toBe(true);
    const fences = granted.map((reply) => (reply as { fence: number }).fence);
    expect(new Set(fences).size).toBe(400); // each its own fence
    const writes = backend.writes;
    const released = await Promise.all(
      owners.map((owner) => semaphores.release({ key: 'many', owner })),
    );
    expect(released.every((reply) => reply === 'ok')).toBe(true);
    // One round for the first call, one for the 399 that came while it ran (each round one
    // write); racing, they made hundreds of conflicting writes and many gave up.
    expect(backend.writes - writes).toBeLessThanOrEqual(3);
    expect(await semaphores.inspect('many')).toBeUndefined();
  });

  it('a lost record is recreated with fences above the old ones (its counter starts at the wall clock in µs)', async () => {
    const backend = recordBackend();
    const semaphores = new RecordSemaphores(backend, new ManualClock(0));
    const before = Date.now() * 1000;
    const first = (await semaphores.acquire(request('a', 1))) as { fence: number };
    expect(first.fence).toBeGreaterThan(before);
    const second = (await semaphores.acquire(request('b', 1))) as { fence: number };
    expect(second.fence).toBe(first.fence + 1);
    // The server forgets everything (a memcached restart): the next grant still gets a higher fence.
    backend.forget();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = (await semaphores.acquire(request('c', 1))) as { fence: number };
    expect(after.fence).toBeGreaterThan(second.fence);
  });
});
