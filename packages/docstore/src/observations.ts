/**
 * What this process last saw of each lock record, and from when it may count the holder's lease
 * as over. This is where Amazon's DynamoDB lock client method lives: a waiter that has seen the
 * same record version for a full lease duration, by its own monotonic clock, may take the lock
 * with a write conditioned on that version. Adapters that read the store's own clock in the same
 * request (Firestore) give the time left directly, and the same bookkeeping turns it into a
 * moment on this process's clock.
 * @module
 */
import type { LeaseRecord } from './collection.js';

/** One record as last seen, with the local moment its holder's lease is surely over. */
export interface Observation {
  readonly record: LeaseRecord;
  /**
   * `performance.now()` from which the holder's lease is over for sure: `-Infinity` for a free
   * record. Counted from when the reply that showed this version was *received* (after the
   * write it shows, so never early), and kept across later reads of the same version.
   */
  readonly expiresAt: number;
}

/** Most records remembered; the least recently seen go first. */
const MAX_ENTRIES = 10_000;

/** Observations per record id, bounded. */
export class Observations {
  readonly #entries = new Map<string, Observation>();

  /** What was last seen of `id`. */
  get(id: string): Observation | undefined {
    return this.#entries.get(id);
  }

  /**
   * Records that `record` was seen in a reply received at `receivedAt` (this process's
   * monotonic clock), and returns the observation. `undefined` forgets `id` (no record).
   */
  see(id: string, record: LeaseRecord | undefined, receivedAt: number): Observation | undefined {
    const previous = this.#entries.get(id);
    this.#entries.delete(id);
    if (record === undefined) return undefined;
    let expiresAt: number;
    if (record.owner === null) {
      expiresAt = Number.NEGATIVE_INFINITY;
    } else {
      // Store clock: the time left when the store served the record, counted from the reply's
      // arrival (later than the store's read). Otherwise a full lease from the first sighting.
      expiresAt = receivedAt + (record.remainingMs ?? record.leaseMs);
      if (previous !== undefined && previous.record.version === record.version) {
        expiresAt = Math.min(expiresAt, previous.expiresAt);
      }
    }
    const observation: Observation = { record, expiresAt };
    this.#entries.set(id, observation);
    if (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return observation;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }
}
