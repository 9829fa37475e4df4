/**
 * Redis key names for one lock. Every key of a lock shares the hash tag `{prefix + key}`, so
 * they land on one Cluster slot and one Lua script may touch them all.
 */
export interface LockKeys {
  /** The lock itself: a string holding the owner token, with the TTL as its expiry. */
  readonly lock: string;
  /** The fence counter (INCR on every grant); never expires. */
  readonly fence: string;
  /** Fair mode: waiters in order (ZSET member = owner token, score = ticket number). */
  readonly queue: string;
  /** Fair mode: each waiter's expiry, in server milliseconds (HASH owner → ms). */
  readonly queueExpiry: string;
  /** Fair mode: the ticket counter of the queue. */
  readonly queueTicket: string;
  /** Pub/sub channel that announces releases of this lock. */
  readonly channel: string;
}

/** The {@link LockKeys} of `key` under `prefix`. */
export function lockKeys(prefix: string, key: string): LockKeys {
  const tag = `{${prefix}${key}}`;
  return {
    lock: tag,
    fence: `${tag}:fence`,
    queue: `${tag}:q`,
    queueExpiry: `${tag}:qexp`,
    queueTicket: `${tag}:qseq`,
    channel: `${tag}:released`,
  };
}
