import { createHash } from 'node:crypto';

/**
 * Where locks live in etcd. A lock `key` owns the folder `<prefix><encoded key>/`; every
 * contender (holder or waiter) writes one entry `<lease-hex>-<suffix>` in it, and the entry
 * with the lowest create revision holds the lock (etcd's `concurrency.Mutex` layout). The key
 * is URI-encoded so that `a` and `a/b` never share a folder; the suffix is a hash of the owner
 * token, unique per acquisition without showing the token in the key name.
 */
export class KeyLayout {
  /** The namespace every key of this backend starts with, such as `"lock/"`. */
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** The folder of `key`: every contender's entry starts with it. */
  folder(key: string): Buffer {
    return Buffer.from(`${this.prefix}${encodeURIComponent(key)}/`);
  }

  /** The entry `owner` writes for `key` under the lease `leaseId`. */
  entry(key: string, leaseId: string, owner: string): Buffer {
    return Buffer.from(`${this.prefix}${encodeURIComponent(key)}/${entryName(leaseId, owner)}`);
  }
}

/**
 * Where the semaphores and read-write locks of a backend with this layout live, apart from
 * the lock folders: every holder and waiter of semaphore `key` is one entry
 * `<prefix>#sem/<encoded key>/<lease-hex>-<suffix>`, and the key's kind and permit count is
 * one key `<prefix>#semcfg/<encoded key>` (no lease: see `semaphore-ops.ts`). `#` is never in
 * an encoded key, so no lock folder starts with `<prefix>#`.
 */
export class SemaphoreLayout {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** The folder of semaphore `key`: every holder's and waiter's entry starts with it. */
  folder(key: string): Buffer {
    return Buffer.from(`${this.#prefix}#sem/${encodeURIComponent(key)}/`);
  }

  /** The key holding semaphore `key`'s kind and permit count. */
  config(key: string): Buffer {
    return Buffer.from(`${this.#prefix}#semcfg/${encodeURIComponent(key)}`);
  }

  /** The entry `owner` writes for semaphore `key` under the lease `leaseId`. */
  entry(key: string, leaseId: string, owner: string): Buffer {
    return Buffer.concat([this.folder(key), Buffer.from(entryName(leaseId, owner))]);
  }
}

/** `<lease-hex>-<first 16 hex of sha256(owner)>`: unique per acquisition, hides the token. */
function entryName(leaseId: string, owner: string): string {
  const suffix = createHash('sha256').update(owner).digest('hex').slice(0, 16);
  return `${BigInt(leaseId).toString(16)}-${suffix}`;
}

/** The end of the range of every key starting with `prefix` (etcd's `WithPrefix`). */
export function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
