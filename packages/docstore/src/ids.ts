/**
 * Maps lock keys to record ids. A key is stored as `prefix + key` when the store can take that
 * id; otherwise (too long, a character the store forbids, or a leading `#`) as
 * `prefix + "#" + base64url(SHA-256(key))`. The mapping is stable across processes and versions:
 * changing it would split locks.
 * @module
 */
import { createHash } from 'node:crypto';

/** Marks a digested id. Keys starting with it are digested too, so the two never collide. */
const DIGEST_MARK = '#';

/** The rules of one store's ids. */
export interface IdRules {
  /** Longest id in UTF-8 bytes. */
  readonly maxIdBytes: number;
  /** True for an id the store cannot take as is. */
  readonly unsafeId?: ((id: string) => boolean) | undefined;
}

/** The record id of lock `key` under `prefix` in a store with `rules`. */
export function recordId(prefix: string, key: string, rules: IdRules): string {
  const id = prefix + key;
  const fits =
    !key.startsWith(DIGEST_MARK) &&
    Buffer.byteLength(id, 'utf8') <= rules.maxIdBytes &&
    rules.unsafeId?.(id) !== true;
  if (fits) return id;
  return `${prefix}${DIGEST_MARK}${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}

/**
 * Marks a semaphore (or read-write lock) record, kept apart from the lock record of the same
 * key: `prefix + "#s:" + key`, or `prefix + "#s:#" + digest`. Neither can be a lock record's id
 * (a lock key starting with `#` is digested, and a digest has no `:`).
 */
const SEMAPHORE_MARK = '#s:';

/** The record id of the semaphore or read-write lock `key` under `prefix` in a store with `rules`. */
export function semaphoreRecordId(prefix: string, key: string, rules: IdRules): string {
  return recordId(prefix + SEMAPHORE_MARK, key, rules);
}
