/**
 * Write ids: every write of a lock record carries an id computed from the previous record's id,
 * the owner token and the operation. It changes on every write (what Amazon's method needs to
 * see a holder alive), and since it is computed, not random, a writer whose reply was lost (a
 * timeout, a driver that retried on a new connection) can read the record and tell whether the
 * write that landed was its own: a retried conditional write otherwise looks like a lost race.
 * @module
 */
import { createHash } from 'node:crypto';

/** The operations that write a lock record. */
export type WriteOperation = 'acquire' | 'extend' | 'release';

/**
 * The id of a write of `operation` by `owner` over the record whose write id is `previous`
 * (`undefined` when creating it), made by the backend whose random `salt` it is. 128 bits of
 * SHA-256, base64url. `ttlMs` is included so that an extend with a new TTL is a different write
 * from one with the old; the salt, so that the same owner's release through another backend
 * object (a second `release()` of an already released lock) is not taken for this one's.
 */
export function nextWriteId(
  previous: string | undefined,
  owner: string,
  operation: WriteOperation,
  ttlMs: number,
  salt: string,
): string {
  return createHash('sha256')
    .update(`${previous ?? 'new'}\n${owner}\n${operation}\n${ttlMs}\n${salt}`)
    .digest('base64url')
    .slice(0, 22);
}
