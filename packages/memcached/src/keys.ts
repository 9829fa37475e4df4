/**
 * Maps lock keys to memcached keys. memcached rejects keys over 250 bytes and keys with
 * spaces or control characters; such lock keys are stored under a fixed-length digest instead.
 * @module
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@lock/core';

/** Longest key memcached accepts, in bytes. */
export const MAX_KEY_BYTES = 250;

/** Marks a digested key. Lock keys starting with it are digested too, so the two never collide. */
const DIGEST_MARK = '#';

/** Sub-prefix of fence counters; starts with {@link DIGEST_MARK}, so no lock key maps onto it. */
const FENCE_MARK = '#f:';

/**
 * Sub-prefix of semaphore and read-write lock records (core's fallback), as long as
 * {@link FENCE_MARK}, so every key that fits one fits the other.
 */
const SEMAPHORE_MARK = '#s:';

/** Length of `#` + a base64url SHA-256 digest. */
const DIGEST_LENGTH = 44;

/** Space, control characters and DEL: what memcached's protocol cannot carry in a key. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to find
const UNSAFE = /[\u0000-\u0020\u007f]/;

/** The memcached keys that hold one lock. */
export interface ItemKeys {
  /** The item whose value is the holder's owner token. */
  readonly lock: string;
  /** The fence counter of this lock key (never expires). */
  readonly fence: string;
  /**
   * The record of the semaphore or read-write lock of the same name (holders, line, fence
   * counter; never expires), kept apart from the mutex.
   */
  readonly semaphore: string;
}

/**
 * Throws unless `prefix` can start every key: printable, no spaces, and short enough that a
 * digested key still fits in 250 bytes.
 */
export function checkPrefix(prefix: unknown, name: string): asserts prefix is string {
  if (typeof prefix !== 'string' || UNSAFE.test(prefix)) {
    throw new InvalidArgumentError(
      name,
      prefix,
      'must be a string without spaces or control characters',
    );
  }
  const room = MAX_KEY_BYTES - FENCE_MARK.length - DIGEST_LENGTH;
  if (Buffer.byteLength(prefix) > room) {
    throw new InvalidArgumentError(name, prefix, `must be at most ${room} bytes long`);
  }
}

/**
 * The memcached keys of lock `key` under `prefix`. A key is used as is when both its item keys
 * fit memcached's rules; otherwise (over 250 bytes with the prefix, a space or control
 * character, or a leading `#`) it becomes `#` + the base64url SHA-256 of its UTF-8 bytes.
 * The mapping is stable across processes and versions: changing it would split locks.
 * @example
 * ```ts
 * itemKeys('lock:', 'jobs/42');
 * // { lock: 'lock:jobs/42', fence: 'lock:#f:jobs/42', semaphore: 'lock:#s:jobs/42' }
 * itemKeys('lock:', 'has space');
 * // { lock: 'lock:#<43 chars>', fence: 'lock:#f:#<43 chars>', semaphore: 'lock:#s:#<43 chars>' }
 * ```
 */
export function itemKeys(prefix: string, key: string): ItemKeys {
  const name = storedName(prefix, key);
  return {
    lock: prefix + name,
    fence: prefix + FENCE_MARK + name,
    semaphore: prefix + SEMAPHORE_MARK + name,
  };
}

function storedName(prefix: string, key: string): string {
  const fits =
    !key.startsWith(DIGEST_MARK) &&
    !UNSAFE.test(key) &&
    Buffer.byteLength(prefix) + FENCE_MARK.length + Buffer.byteLength(key) <= MAX_KEY_BYTES;
  if (fits) return key;
  return DIGEST_MARK + createHash('sha256').update(key, 'utf8').digest('base64url');
}
