import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  decideSemaphore,
  describeSemaphore,
  RW_PERMITS,
  type SemaphoreAcquireRequest,
  type SemaphoreState,
} from '../src/index.js';

const request = (
  owner: string,
  count: number,
  permits = 3,
  wait = true,
  ttlMs = 1_000,
): SemaphoreAcquireRequest => ({
  key: 'k',
  owner,
  mode: 'permit',
  count,
  permits,
  ttlMs,
  wait,
});

/** Applies a sequence of acquires at time `now`, returning the last state and replies. */
function run(
  steps: SemaphoreAcquireRequest[],
  now = 0,
  initial: SemaphoreState | undefined = undefined,
) {
  let state = initial;
  const replies = steps.map((step) => {
    const decision = decideSemaphore(state, { op: 'acquire', request: step }, now);
    state = decision.state;
    return decision.reply;
  });
  return { state, replies };
}

describe('decideSemaphore', () => {
  it('grants while permits last, then denies with what is in use and when to retry', () => {
    const { state, replies } = run([request('a', 2), request('b', 1), request('c', 1)]);
    expect(replies.slice(0, 2)).toEqual([
      { acquired: true, fence: 1 },
      { acquired: true, fence: 2 },
    ]);
    expect(replies[2]).toEqual({
      acquired: false,
      inUse: 3,
      holders: 2,
      ahead: 0,
      retryAfterMs: 1_000,
    });
    expect(state?.waiters.map((w) => w.owner)).toEqual(['c']);
  });

  it('a big waiter is not passed by later small ones (strict FIFO with reservation)', () => {
    let { state } = run([request('a', 2), request('big', 3)]);
    // One permit is free, but "big" is ahead: "small" waits, and so does a tryAcquire.
    const small = decideSemaphore(state, { op: 'acquire', request: request('small', 1) }, 1);
    expect(small.reply).toMatchObject({ acquired: false, ahead: 1 });
    const trying = decideSemaphore(
      small.state,
      { op: 'acquire', request: request('try', 1, 3, false) },
      1,
    );
    expect(trying.reply).toMatchObject({ acquired: false, ahead: 2 });
    expect(trying.state?.waiters.map((w) => w.owner)).toEqual(['big', 'small']);
    state = decideSemaphore(trying.state, { op: 'release', owner: 'a' }, 2).state;
    // "small" comes back first, but the whole line ahead of it must fit first: it does not.
    const early = decideSemaphore(state, { op: 'acquire', request: request('small', 1) }, 3);
    expect(early.reply).toMatchObject({ acquired: false, ahead: 1 });
    const bigGrant = decideSemaphore(early.state, { op: 'acquire', request: request('big', 3) }, 4);
    expect(bigGrant.reply).toEqual({ acquired: true, fence: 2 });
  });

  it('a waiter is granted without waiting for those ahead to come back only when they all fit', () => {
    const { state } = run([request('a', 1), request('w1', 3), request('w2', 1)]);
    const released = decideSemaphore(state, { op: 'release', owner: 'a' }, 1);
    expect(released.wake).toBe(true);
    // 3 free: w1 (3) is reserved first, so w2 (1) does not fit yet.
    const w2 = decideSemaphore(released.state, { op: 'acquire', request: request('w2', 1) }, 2);
    expect(w2.reply).toMatchObject({ acquired: false, ahead: 1 });
    // With room for everyone ahead too, a later waiter does not wait for them to come back.
    const { state: wide } = run([request('a', 4, 5), request('w1', 2, 5), request('w2', 1, 5)]);
    expect(wide?.waiters.map((w) => w.owner)).toEqual(['w1', 'w2']);
    const freed = decideSemaphore(wide, { op: 'release', owner: 'a' }, 1).state;
    const w2wide = decideSemaphore(freed, { op: 'acquire', request: request('w2', 1, 5) }, 2);
    expect(w2wide.reply).toEqual({ acquired: true, fence: 2 });
    const w1 = decideSemaphore(w2wide.state, { op: 'acquire', request: request('w1', 2, 5) }, 3);
    expect(w1.reply).toEqual({ acquired: true, fence: 3 });
  });

  it('a waiting writer blocks new readers; readers share', () => {
    const rw = (owner: string, mode: 'read' | 'write', wait = true): SemaphoreAcquireRequest => ({
      key: 'k',
      owner,
      mode,
      count: mode === 'read' ? 1 : RW_PERMITS,
      permits: RW_PERMITS,
      ttlMs: 1_000,
      wait,
    });
    const { state, replies } = run([rw('r1', 'read'), rw('r2', 'read'), rw('w', 'write')]);
    expect(replies.map((r) => r.acquired)).toEqual([true, true, false]);
    const r3 = decideSemaphore(state, { op: 'acquire', request: rw('r3', 'read', false) }, 1);
    expect(r3.reply).toMatchObject({ acquired: false, ahead: 1 });
    let next = decideSemaphore(state, { op: 'release', owner: 'r1' }, 1).state;
    next = decideSemaphore(next, { op: 'release', owner: 'r2' }, 1).state;
    const write = decideSemaphore(next, { op: 'acquire', request: rw('w', 'write') }, 2);
    expect(write.reply).toEqual({ acquired: true, fence: 3 });
    expect(describeSemaphore(write.state, 2)).toMatchObject({
      kind: 'read-write',
      inUse: RW_PERMITS,
      waiting: 0,
      fence: 3,
    });
  });

  it('a busy key keeps its kind and count; an idle one takes new ones and keeps its fence', () => {
    const { state } = run([request('a', 1, 3)]);
    const other = decideSemaphore(state, { op: 'acquire', request: request('b', 1, 4) }, 1);
    expect(other.reply).toEqual({ acquired: false, mismatch: { kind: 'semaphore', permits: 3 } });
    expect(other.changed).toBe(false);
    const asRw = decideSemaphore(
      state,
      {
        op: 'acquire',
        request: { ...request('b', 1, RW_PERMITS), mode: 'read' },
      },
      1,
    );
    expect(asRw.reply).toMatchObject({ mismatch: { kind: 'semaphore' } });
    const idle = decideSemaphore(state, { op: 'release', owner: 'a' }, 1).state;
    const fresh = decideSemaphore(idle, { op: 'acquire', request: request('b', 4, 4) }, 2);
    expect(fresh.reply).toEqual({ acquired: true, fence: 2 });
    expect(fresh.state?.permits).toBe(4);
  });

  it('an owner that holds is granted again with its own fence (a replayed acquire)', () => {
    const { replies, state } = run([request('a', 2), request('a', 2)]);
    expect(replies).toEqual([
      { acquired: true, fence: 1 },
      { acquired: true, fence: 1 },
    ]);
    expect(state?.holders).toHaveLength(1);
  });

  it('expired holders and waiters are dropped first, and that wakes waiters', () => {
    const { state } = run([request('a', 3), request('w', 1)]);
    const later = decideSemaphore(state, { op: 'acquire', request: request('b', 3) }, 1_000);
    expect(later.reply).toEqual({ acquired: true, fence: 2 });
    expect(later.wake).toBe(true);
    expect(describeSemaphore(later.state, 1_000)?.holders.map((h) => h.owner)).toEqual(['b']);
    expect(describeSemaphore(later.state, 5_000)).toBeUndefined();
  });

  it('extend and release are owner-checked; untouched entries stay the same objects', () => {
    const { state } = run([request('a', 1), request('b', 1)]);
    expect(decideSemaphore(state, { op: 'extend', owner: 'x', ttlMs: 5 }, 1).reply).toBe(
      'not-found',
    );
    const extended = decideSemaphore(state, { op: 'extend', owner: 'a', ttlMs: 5_000 }, 1);
    expect(extended.reply).toBe('ok');
    expect(extended.state?.holders[0]?.expiresAt).toBe(5_001);
    expect(extended.state?.holders[1]).toBe(state?.holders[1]);
    expect(decideSemaphore(state, { op: 'release', owner: 'x' }, 1).reply).toBe('not-found');
    expect(decideSemaphore(undefined, { op: 'release', owner: 'x' }, 1).reply).toBe('not-found');
  });

  it('under random commands: never over the permits, fences unique and growing, FIFO kept', () => {
    const owners = ['a', 'b', 'c', 'd', 'e'];
    const command = fc.oneof(
      fc.record({
        op: fc.constant('acquire' as const),
        owner: fc.constantFrom(...owners),
        count: fc.integer({ min: 1, max: 4 }),
        wait: fc.boolean(),
        ttlMs: fc.integer({ min: 1, max: 50 }),
      }),
      fc.record({ op: fc.constant('release' as const), owner: fc.constantFrom(...owners) }),
      fc.record({
        op: fc.constant('extend' as const),
        owner: fc.constantFrom(...owners),
        ttlMs: fc.integer({ min: 1, max: 50 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(command, fc.integer({ min: 0, max: 10 })), { maxLength: 80 }),
        (steps) => {
          let state: SemaphoreState | undefined;
          let now = 0;
          let lastFence = 0;
          // Each owner token asks for one count for its life, as core does.
          const counts = new Map<string, number>();
          for (const [step, advance] of steps) {
            now += advance;
            if (step.op === 'acquire') {
              const count = counts.get(step.owner) ?? step.count;
              counts.set(step.owner, count);
              const before = state;
              const decision = decideSemaphore(
                state,
                { op: 'acquire', request: request(step.owner, count, 4, step.wait, step.ttlMs) },
                now,
              );
              state = decision.state;
              if (decision.reply.acquired) {
                const held = before?.holders.find(
                  (h) => h.owner === step.owner && h.expiresAt > now,
                );
                if (held === undefined) {
                  expect(decision.reply.fence).toBe(lastFence + 1);
                  lastFence = decision.reply.fence;
                  // FIFO: every live waiter ahead fitted along with it.
                  const live = before?.waiters.filter((w) => w.expiresAt > now) ?? [];
                  const place = live.findIndex((w) => w.owner === step.owner);
                  const ahead = place >= 0 ? live.slice(0, place) : live;
                  const used = (before?.holders ?? [])
                    .filter((h) => h.expiresAt > now)
                    .reduce((sum, h) => sum + h.count, 0);
                  const reserved = ahead.reduce((sum, w) => sum + w.count, 0);
                  expect(used + reserved + count).toBeLessThanOrEqual(4);
                } else {
                  expect(decision.reply.fence).toBe(held.fence);
                }
              }
            } else {
              state = decideSemaphore(state, step, now).state;
            }
            if (state !== undefined) {
              const live = state.holders.filter((h) => h.expiresAt > now);
              expect(live.reduce((sum, h) => sum + h.count, 0)).toBeLessThanOrEqual(4);
              expect(new Set(state.holders.map((h) => h.fence)).size).toBe(state.holders.length);
              expect(state.fence).toBe(lastFence);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
