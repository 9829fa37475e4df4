import { describe, expect, it } from '@jest/globals';
import { DeadlineQueue } from '../src/deadline-queue.js';
import { ManualClock } from '../src/manual-clock.js';

describe('DeadlineQueue: many deadlines on one timer', () => {
  it('fires each deadline once, in order, not before it and not late, on one timer', () => {
    const clock = new ManualClock(0);
    const queue = new DeadlineQueue(clock);
    const fired: [string, number][] = [];
    for (const [name, at] of [
      ['a', 100],
      ['b', 150],
      ['c', 150],
      ['d', 400],
    ] as const) {
      queue.add(at, () => fired.push([name, clock.now()]));
    }
    expect(clock.pendingTimers).toBe(1);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([['a', 100]]);
    clock.advance(300);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 150],
      ['c', 150],
      ['d', 400],
    ]);
  });

  it('a cancelled deadline never fires; the others still do', () => {
    const clock = new ManualClock(0);
    const queue = new DeadlineQueue(clock);
    const fired: string[] = [];
    const a = queue.add(100, () => fired.push('a'));
    queue.add(200, () => fired.push('b'));
    const c = queue.add(300, () => fired.push('c'));
    a.cancel();
    c.cancel();
    c.cancel(); // twice is harmless
    clock.advance(1_000);
    expect(fired).toEqual(['b']);
  });

  it('a deadline earlier than the last one queued still fires on time (its own timer)', () => {
    const clock = new ManualClock(0);
    const queue = new DeadlineQueue(clock);
    const fired: [string, number][] = [];
    queue.add(1_000, () => fired.push(['late', clock.now()]));
    const early = queue.add(50, () => fired.push(['early', clock.now()]));
    queue.add(60, () => fired.push(['early-2', clock.now()]));
    clock.advance(50);
    expect(fired).toEqual([['early', 50]]);
    clock.advance(10);
    expect(fired).toEqual([
      ['early', 50],
      ['early-2', 60],
    ]);
    early.cancel(); // after firing: nothing
    clock.advance(1_000);
    expect(fired.map(([name]) => name)).toEqual(['early', 'early-2', 'late']);
  });

  it('a timer that fires late fires every deadline that passed, at once', () => {
    const clock = new ManualClock(0);
    const queue = new DeadlineQueue(clock);
    const fired: number[] = [];
    for (let at = 10; at <= 100; at += 10) queue.add(at, () => fired.push(at));
    clock.jump(95); // time passes, no timer runs
    clock.advance(0);
    expect(fired).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    clock.advance(5);
    expect(fired.at(-1)).toBe(100);
  });

  it('keeps no memory for cancelled deadlines, even behind one that stays pending', () => {
    const clock = new ManualClock(0);
    const queue = new DeadlineQueue(clock);
    let fired = 0;
    queue.add(10_000, () => fired++); // pending the whole time
    for (let i = 0; i < 100_000; i++) queue.add(10_000 + i, () => fired++).cancel();
    expect(queue.retained).toBeLessThan(100);
    clock.advance(10_000);
    expect(fired).toBe(1);
  });

  it('disarmIfIdle leaves no timer once nothing is pending, and keeps it while something is', () => {
    const clock = new ManualClock(0);
    const queue = new DeadlineQueue(clock);
    const pending = queue.add(100, () => {});
    queue.disarmIfIdle();
    expect(clock.pendingTimers).toBe(1);
    pending.cancel();
    queue.disarmIfIdle();
    expect(clock.pendingTimers).toBe(0);
  });
});
