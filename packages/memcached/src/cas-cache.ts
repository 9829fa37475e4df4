/**
 * Remembers the CAS of each lock this process wrote, so extend and release can send their
 * CAS-guarded request at once instead of reading the item first (one round trip, not two).
 * @module
 */

interface Entry {
  readonly cas: Buffer;
  readonly connection: object;
}

/** Most entries kept; the oldest go first (locks that expired without a release leave one). */
const MAX_ENTRIES = 10_000;

/**
 * CAS of the items this backend wrote, per lock key and owner token. An entry is trusted only
 * on the connection that returned it: a server restart
 * drops the connection and restarts its CAS numbering from 1, so a CAS remembered across one
 * could match someone else's item.
 */
export class CasCache {
  readonly #entries = new Map<string, Entry>();

  /** The CAS remembered for `owner` on `lockKey`, if it came on `connection`. */
  get(lockKey: string, owner: string, connection: object | undefined): Buffer | undefined {
    const id = idOf(lockKey, owner);
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (connection === undefined || entry.connection !== connection) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.cas;
  }

  /** Remembers `cas` for `owner` on `lockKey`, as returned on `connection`. */
  set(lockKey: string, owner: string, cas: Buffer, connection: object | undefined): void {
    const id = idOf(lockKey, owner);
    this.#entries.delete(id);
    if (connection === undefined) return;
    this.#entries.set(id, { cas, connection });
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
