/**
 * Remembers the CAS of each lock this process wrote, so extend and release can send their
 * CAS-guarded request at once instead of reading the item first (one round trip, not two).
 * @module
 */
import type { BoundCas } from './cas-requests.js';

/** Most entries kept; the oldest go first (locks that expired without a release leave one). */
const MAX_ENTRIES = 10_000;

/**
 * CAS of the items this backend wrote, per lock key and owner token, each with the connection
 * its reply came on: the write that uses it goes out on that connection or not at all (a server
 * restart drops the connection and restarts CAS numbering from 1, so a CAS remembered across one
 * could match someone else's item).
 */
export class CasCache {
  readonly #entries = new Map<string, BoundCas>();

  /** The CAS remembered for `owner` on `lockKey`. */
  get(lockKey: string, owner: string): BoundCas | undefined {
    return this.#entries.get(idOf(lockKey, owner));
  }

  /** Remembers `cas` for `owner` on `lockKey`. */
  set(lockKey: string, owner: string, cas: BoundCas): void {
    const id = idOf(lockKey, owner);
    this.#entries.delete(id);
    this.#entries.set(id, cas);
    if (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Forgets `owner`'s entry on `lockKey`. */
  delete(lockKey: string, owner: string): void {
    this.#entries.delete(idOf(lockKey, owner));
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }
}

function idOf(lockKey: string, owner: string): string {
  return `${lockKey}\n${owner}`;
}
