// close() of a locker with sessions, against the real in-process backend (wrapped by
// FaultyBackend to hold a reply back), driven by a ManualClock. Both cases were found by core's
// model check (packages/core/test/model) and are kept here against a real backend too.
import { describe, expect, it } from '@jest/globals';
import { createLocker, isLockError } from '@lock/core';
import { ManualClock, settle } from '@lock/core/testing';
import { FaultyBackend } from '@lock/testkit';
import { LocalBackend } from '../src/index.js';

const TTL = 3_000;

function setup() {
  const clock = new ManualClock(1_000);
  const local = new LocalBackend({ clock });
  const backend = new FaultyBackend(local);
  const errors: unknown[] = [];
  const locker = createLocker(backend, { clock, ttl: TTL, onError: (e) => errors.push(e) });
  const other = createLocker(new LocalBackend({ store: local.store }), {
    clock,
    onError: () => {},
  });
  return { clock, backend, locker, other, errors };
}

describe('close() with sessions', () => {
  it("waits for a session's close already under way, so a grant that arrives during it is handed back", async () => {
    const { backend, locker, other, errors } = setup();
    const session = locker.session();
    backend.set('hold-reply', 'acquire');
    const waiting = session.lock('k').catch((error: unknown) => error);
    await settle();
    const sessionClosed = session.close();
    const closed = locker.close();
    await settle();
    backend.unhang(); // the grant arrives while both are closing
    await Promise.all([sessionClosed, closed]);
    expect(isLockError(await waiting, 'CLOSED')).toBe(true);
    // The session handed the lock back before the backend closed: the key is free.
    const lock = await other.tryLock('k');
    await lock.release();
    expect(errors).toEqual([]);
    await other.close();
  });

  it('a lock() whose first attempt is under way when the locker closes does not start waiting after it', async () => {
    const { clock, backend, locker, other } = setup();
    await locker.tryLock('k'); // held (and kept alive) by the parent until its close releases it
    const session = locker.session();
    backend.set('hold-reply', 'acquire');
    const waiting = session.lock('k').catch((error: unknown) => error);
    await settle();
    let closed = false;
    void locker.close().then(() => {
      closed = true;
    });
    await settle();
    backend.unhang(); // the first attempt's answer: held by the parent
    await clock.advanceAsync(TTL * 3, 10);
    expect(closed).toBe(true);
    expect(isLockError(await waiting, 'CLOSED')).toBe(true);
    await other.close();
  });
});
