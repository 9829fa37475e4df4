import { describe, expect, it } from '@jest/globals';
import { type Renewal, Validity } from '../src/validity.js';

const margin = (ttl: number) => ttl * 0.01 + 2;
const bound = (sentAt: number, ttl: number) => sentAt + ttl - margin(ttl);

describe('Validity: the certain end of a lock, from every request that set its TTL', () => {
  it('counts from the send time of the confirmed request sent last', () => {
    const v = new Validity({ sentAt: 0, ttlMs: 1_000 }, 5, margin);
    expect(v.until).toBe(bound(0, 1_000));
    const r: Renewal = { sentAt: 300, ttlMs: 1_000 };
    v.begin(r);
    expect(v.until).toBe(bound(0, 1_000)); // in flight: may land, but not shorter than now
    v.confirm(r, 310);
    expect(v.until).toBe(bound(300, 1_000));
  });

  it('a long renewal confirmed after a shorter one sent later cannot stretch the lock', () => {
    const v = new Validity({ sentAt: 0, ttlMs: 30_000 }, 1, margin);
    const keepalive: Renewal = { sentAt: 100, ttlMs: 30_000 };
    const extend: Renewal = { sentAt: 150, ttlMs: 1_000 };
    v.begin(keepalive);
    v.begin(extend);
    expect(v.until).toBe(bound(150, 1_000)); // the short one may be applied any moment
    v.confirm(extend, 160);
    expect(v.until).toBe(bound(150, 1_000));
    v.confirm(keepalive, 200); // answered after the extend was sent: may have been applied after it
    expect(v.until).toBe(bound(150, 1_000));
  });

  it('an earlier answer cannot have been applied after a request sent once it arrived', () => {
    const v = new Validity({ sentAt: 0, ttlMs: 30_000 }, 1, margin);
    const keepalive: Renewal = { sentAt: 100, ttlMs: 30_000 };
    v.begin(keepalive);
    v.confirm(keepalive, 120);
    const extend: Renewal = { sentAt: 150, ttlMs: 60_000 };
    v.begin(extend);
    v.confirm(extend, 160);
    expect(v.until).toBe(bound(150, 60_000));
  });

  it('a request with an unknown outcome bounds the lock for good, from the latest confirmation', () => {
    const v = new Validity({ sentAt: 0, ttlMs: 30_000 }, 1, margin);
    const lost: Renewal = { sentAt: 100, ttlMs: 1_000 };
    v.begin(lost);
    v.unknown(lost);
    // If it landed, it landed after it was sent: the lock lives until then plus its TTL at least.
    expect(v.until).toBe(bound(100, 1_000));
    const later: Renewal = { sentAt: 5_000, ttlMs: 30_000 };
    v.begin(later);
    v.confirm(later, 5_010);
    // The lost request may land after `later` was applied: then the server keeps 1 s from then.
    expect(v.until).toBe(bound(5_000, 1_000));
  });

  it('a refused request no longer bounds anything', () => {
    const v = new Validity({ sentAt: 0, ttlMs: 30_000 }, 1, margin);
    const refused: Renewal = { sentAt: 10, ttlMs: 1_000 };
    v.begin(refused);
    expect(v.until).toBe(bound(10, 1_000));
    v.drop(refused);
    expect(v.until).toBe(bound(0, 30_000));
  });

  it('with one TTL throughout, it is simply the latest confirmed send time plus the TTL', () => {
    const v = new Validity({ sentAt: 0, ttlMs: 900 }, 2, margin);
    const a: Renewal = { sentAt: 300, ttlMs: 900 };
    const b: Renewal = { sentAt: 600, ttlMs: 900 };
    v.begin(a);
    v.begin(b);
    v.confirm(b, 610);
    v.confirm(a, 620); // out of order: a cannot push the end past b's
    expect(v.until).toBe(bound(600, 900));
  });

  it('an answer read at the same clock time as a later send may have been applied after it', () => {
    // Found by the model check: a keepalive tick and a shorter extend() go out at one reading of
    // the clock, and the extend's answer is taken in at that reading before the keepalive's.
    const v = new Validity({ sentAt: 0, ttlMs: 40 }, 0, margin);
    const keepalive: Renewal = { sentAt: 5, ttlMs: 40 };
    const extend: Renewal = { sentAt: 5, ttlMs: 25 };
    v.begin(keepalive);
    v.begin(extend);
    v.confirm(extend, 5);
    v.confirm(keepalive, 5); // the store may have applied the keepalive first, then the extend
    expect(v.until).toBe(bound(5, 25));
  });

  it('an answer taken in before a request was sent, at the same clock reading, was applied before it', () => {
    const v = new Validity({ sentAt: 0, ttlMs: 3_000 }, 0, margin);
    const extend: Renewal = { sentAt: 0, ttlMs: 30_000 }; // sent once the acquire's answer was in
    v.begin(extend);
    v.confirm(extend, 0);
    expect(v.until).toBe(bound(0, 30_000));
  });

  it('a timed-out renewal sent long after the last confirmation does not cut the lock short', () => {
    // Found by the model check: counted from the last confirmation, this extend(5000) sent at
    // 20 s and timed out made a lock held until 25 s "valid" until 5 s, and so lost at once.
    const v = new Validity({ sentAt: 0, ttlMs: 30_000 }, 1, margin);
    const extend: Renewal = { sentAt: 20_000, ttlMs: 5_000 };
    v.begin(extend);
    expect(v.until).toBe(bound(20_000, 5_000));
    v.unknown(extend);
    expect(v.until).toBe(bound(20_000, 5_000));
    const keepalive: Renewal = { sentAt: 21_000, ttlMs: 30_000 };
    v.begin(keepalive);
    v.confirm(keepalive, 21_010);
    // It may still land after the keepalive was applied: then 5 s from then.
    expect(v.until).toBe(bound(21_000, 5_000));
  });
});
