import { isLockError } from '@lock/core';
import { deadlineFlags, expirySeconds, remainingFromFlags } from '../src/expiry.js';
import { MAX_TTL_MS } from '../src/index.js';

describe('memcached expiry', () => {
  it('rounds a TTL up to whole seconds plus one, so the server never drops a lock early', () => {
    expect(expirySeconds(1)).toBe(2);
    expect(expirySeconds(1_000)).toBe(2);
    expect(expirySeconds(1_001)).toBe(3);
    expect(expirySeconds(MAX_TTL_MS)).toBe(60 * 60 * 24 * 30);
  });

  it('rejects a TTL memcached would read as a Unix time', () => {
    let error: unknown;
    try {
      expirySeconds(MAX_TTL_MS + 1);
    } catch (e) {
      error = e;
    }
    expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('carries the deadline in 32-bit flags, across the wrap-around of the low 32 bits', () => {
    for (const now of [1_795_000_000_000, 2 ** 32 * 418 - 500, 2 ** 32 * 418 + 5]) {
      const flags = deadlineFlags(7_000, now);
      expect(flags).toBeGreaterThan(0);
      expect(flags).toBeLessThan(2 ** 32);
      expect(remainingFromFlags(flags, now)).toBe(7_000);
      expect(remainingFromFlags(flags, now + 6_999)).toBe(1);
      expect(remainingFromFlags(flags, now + 7_000)).toBeUndefined();
      expect(remainingFromFlags(flags, now + 60_000)).toBeUndefined();
    }
  });

  it('marks TTLs too long for 32 bits as unknown', () => {
    expect(deadlineFlags(2 ** 31, 1_795_000_000_000)).toBe(0);
    expect(remainingFromFlags(0)).toBeUndefined();
  });
});
