/**
 * How TTLs become memcached expirations, and how the holder's deadline rides in the item flags.
 * @module
 */
import { InvalidArgumentError } from '@lock/core';

/** memcached reads an expiration above 30 days (in seconds) as a Unix time. */
const RELATIVE_LIMIT_SECONDS = 60 * 60 * 24 * 30;

/** Longest TTL this backend takes: 30 days minus the extra second it adds. */
export const MAX_TTL_MS = (RELATIVE_LIMIT_SECONDS - 1) * 1000;

const TWO_POW_32 = 2 ** 32;

/**
 * The memcached expiration for a TTL: whole seconds, rounded up, plus one. memcached counts
 * time in whole seconds from its own clock tick, so an item set with expiration `n` lives
 * between `n - 1` and `n` seconds (an item with `1` was measured gone after 136 ms). The extra
 * second makes the server keep the item at least `ttlMs`; the holder still judges loss by the
 * exact `ttlMs` on its own clock.
 * @throws {InvalidArgumentError} for a TTL over {@link MAX_TTL_MS}.
 */
export function expirySeconds(ttlMs: number): number {
  if (ttlMs > MAX_TTL_MS) {
    throw new InvalidArgumentError(
      'ttlMs',
      ttlMs,
      `must be at most ${MAX_TTL_MS} ms (memcached reads longer expirations as dates)`,
    );
  }
  return Math.ceil(ttlMs / 1000) + 1;
}

/**
 * The item flags for a holding that ends `ttlMs` from `now` (wall clock, ms): the low 32 bits
 * of the deadline. Readers turn it back into a remaining time with {@link remainingFromFlags}.
 * 0 means unknown (TTLs of 24.8 days or more, which 32 bits cannot tell apart from the past).
 */
export function deadlineFlags(ttlMs: number, now: number = Date.now()): number {
  if (ttlMs >= 2 ** 31 - 1) return 0;
  return Math.floor(now + ttlMs) % TWO_POW_32 || 1;
}

/**
 * The holder's remaining time by `now` (this machine's wall clock), from flags written by
 * {@link deadlineFlags} on the holder's. An estimate: it is off by the clock skew between the
 * two machines. `undefined` when unknown or already past (the item may outlive its deadline
 * by up to two seconds, see {@link expirySeconds}).
 */
export function remainingFromFlags(flags: number, now: number = Date.now()): number | undefined {
  if (flags === 0) return undefined;
  const remaining = (flags - (Math.floor(now) % TWO_POW_32)) | 0;
  return remaining > 0 ? remaining : undefined;
}
