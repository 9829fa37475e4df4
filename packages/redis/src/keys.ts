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

/**
 * What each key's name adds to the lock's hash tag. The batched scripts rebuild the names from
 * the tag alone (see `batchable` in scripts.ts), so the suffixes live here, once.
 */
export const KEY_SUFFIX = {
  lock: '',
  fence: ':fence',
  queue: ':q',
  queueExpiry: ':qexp',
  queueTicket: ':qseq',
  channel: ':released',
} as const satisfies Record<keyof LockKeys, string>;

/** The hash tag of `key` under `prefix`: the lock's own name, and the stem of its other keys. */
export function lockTag(prefix: string, key: string): string {
  return `{${prefix}${key}}`;
}

/** The {@link LockKeys} of `key` under `prefix`. */
export function lockKeys(prefix: string, key: string): LockKeys {
  const tag = lockTag(prefix, key);
  return {
    lock: tag,
    fence: tag + KEY_SUFFIX.fence,
    queue: tag + KEY_SUFFIX.queue,
    queueExpiry: tag + KEY_SUFFIX.queueExpiry,
    queueTicket: tag + KEY_SUFFIX.queueTicket,
    channel: tag + KEY_SUFFIX.channel,
  };
}

/**
 * Redis key names for one semaphore or read-write lock, apart from the mutex keys of the same
 * name (every mutex key ends in `}` or in one of `:fence`, `:q`, `:qexp`, `:qseq`) but under the
 * same hash tag, so one Cluster slot and one script hold them all.
 */
export interface SemaphoreKeys {
  /** HASH, no TTL: `kind`, `permits`, `fence` (last fence handed out), `inuse`, `ticket`. */
  readonly meta: string;
  /** ZSET: holders, owner token → expiry (server ms). */
  readonly holders: string;
  /** ZSET: the line, owner token → ticket (arrival order). */
  readonly line: string;
  /** ZSET: the line's expiries, owner token → expiry (server ms). */
  readonly lineExpiry: string;
  /** HASH: owner token → `"<count> <mode> <fence>"` for every holder and waiter (fence 0 in line). */
  readonly entries: string;
  /** Pub/sub channel: the mutex's release channel, so `watch(key)` hears both (message `s`). */
  readonly channel: string;
}

/** The {@link SemaphoreKeys} of `key` under `prefix`. */
export function semaphoreKeys(prefix: string, key: string): SemaphoreKeys {
  const tag = `{${prefix}${key}}`;
  return {
    meta: `${tag}:sem`,
    holders: `${tag}:sem:h`,
    line: `${tag}:sem:w`,
    lineExpiry: `${tag}:sem:wx`,
    entries: `${tag}:sem:e`,
    channel: `${tag}:released`,
  };
}
