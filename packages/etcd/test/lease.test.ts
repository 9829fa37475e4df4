import { describe, expect, it } from '@jest/globals';
import { KeyLayout, rangeEnd } from '../src/keys.js';
import { Lease, LeaseGoneError } from '../src/lease.js';

/** A keepalive that answers when told to, counting calls. */
function manualKeepAlive() {
  const waiting: ((ttl: number) => void)[] = [];
  const keepAlive = (_id: string) =>
    new Promise<number>((resolve) => {
      waiting.push(resolve);
    });
  return { keepAlive, waiting };
}

describe('Lease renewals', () => {
  it('needs no renewal while the last confirmed one covers the deadline', async () => {
    const { keepAlive, waiting } = manualKeepAlive();
    const lease = new Lease('1', 10, performance.now(), keepAlive);
    await lease.ensureValidUntil(performance.now() + 5_000);
    expect(waiting).toHaveLength(0);
  });

  it('shares one renewal between callers it covers, and credits it from its send time', async () => {
    const { keepAlive, waiting } = manualKeepAlive();
    const lease = new Lease('1', 1, performance.now() - 5_000, keepAlive);
    const askedAt = performance.now();
    const first = lease.ensureValidUntil(askedAt + 500);
    const second = lease.ensureValidUntil(askedAt + 900);
    expect(waiting).toHaveLength(1);
    (waiting[0] as (ttl: number) => void)(1);
    await Promise.all([first, second]);
    expect(lease.confirmedAt).toBeGreaterThanOrEqual(askedAt);
    expect(lease.confirmedAt).toBeLessThanOrEqual(performance.now());
  });

  it('does not let a renewal sent too early stand for a later deadline', async () => {
    const { keepAlive, waiting } = manualKeepAlive();
    const lease = new Lease('1', 1, performance.now() - 5_000, keepAlive);
    const early = lease.ensureValidUntil(performance.now());
    const later = lease.ensureValidUntil(performance.now() + 5_000); // beyond early's cover
    expect(waiting).toHaveLength(2);
    for (const answer of waiting) answer(1);
    await Promise.all([early, later]);
  });

  it('a lease etcd no longer has is dead, and says so', async () => {
    const { keepAlive, waiting } = manualKeepAlive();
    const lease = new Lease('1', 1, performance.now() - 5_000, keepAlive);
    const renewal = lease.ensureValidUntil(performance.now() + 500);
    (waiting[0] as (ttl: number) => void)(0);
    await expect(renewal).rejects.toBeInstanceOf(LeaseGoneError);
    expect(lease.dead).toBe(true);
    await expect(lease.ensureValidUntil(0)).rejects.toBeInstanceOf(LeaseGoneError);
  });

  it('renews in the background only while someone waits', async () => {
    let calls = 0;
    const lease = new Lease('1', 0.15, performance.now(), async () => {
      calls += 1;
      return 1;
    });
    lease.addWaiter();
    await new Promise((resolve) => setTimeout(resolve, 400));
    lease.removeWaiter();
    const seen = calls;
    expect(seen).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(calls).toBe(seen);
  });
});

describe('key layout', () => {
  it('gives "a" and "a/b" separate folders, and entries unique per owner token', () => {
    const layout = new KeyLayout('p/');
    const a = layout.folder('a').toString();
    const ab = layout.folder('a/b').toString();
    expect(ab.startsWith(a)).toBe(false);
    const one = layout.entry('a', '255', 'me.secret-1').toString();
    const two = layout.entry('a', '255', 'me.secret-2').toString();
    expect(one).not.toBe(two);
    expect(one.startsWith(`${a}ff-`)).toBe(true);
    expect(one).not.toContain('secret');
  });

  it('ends a prefix range after every key with that prefix', () => {
    expect(rangeEnd(Buffer.from('ab')).toString()).toBe('ac');
    expect([...rangeEnd(Buffer.from([0x61, 0xff]))]).toEqual([0x62]);
    expect([...rangeEnd(Buffer.from([0xff]))]).toEqual([0]);
  });
});
