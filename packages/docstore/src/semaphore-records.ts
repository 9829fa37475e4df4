/**
 * Semaphores and read-write locks over a {@link LeaseCollection}: one document per key (apart
 * from the lock record of the same key) holding core's semaphore record as JSON in its `data`
 * field, changed only by writes conditioned on its version. Core's rules and its expiry clock
 * run on it: this module gives core's compare-and-set fallback (`semaphoreOpsOf` over
 * `readRecord` / `writeRecord`) the record, and adds what makes a grant one request:
 *
 * - the version this process last wrote or read of each record is remembered, and a call
 *   decides on it and writes at once; the store's condition checks that it is still current;
 * - a decision made on a remembered record that writes nothing (a denial, a mismatch, a
 *   not-found) is made again on a fresh read, so no call reports anything from a stale record;
 * - calls on one key in one process go one at a time, each writing on the version the one
 *   before produced, instead of racing each other's conditions.
 * @module
 */
import { createHash } from 'node:crypto';
import {
  type BackendSemaphoreInfo,
  type ExtendRequest,
  type LockBackend,
  type ReleaseRequest,
  type SemaphoreAcquireRequest,
  type SemaphoreAcquireResult,
  type SemaphoreOps,
  type SemaphoreOwnerResult,
  semaphoreOpsOf,
  systemClock,
  type VersionedRecord,
} from '@lock/core';
import type { LeaseCollection, LeaseFields, LeaseRecord } from './collection.js';
import { DeadlineError } from './deadline.js';
import { toBackendError } from './errors.js';
import { semaphoreRecordId } from './ids.js';

/** Most records remembered; the least recently seen go first. */
const MAX_REMEMBERED = 10_000;

/** A record as last seen, and when: `-Infinity` when it came from a notification. */
interface Sighting {
  readonly record: LeaseRecord;
  readonly receivedAt: number;
}

/** The call running on one record (calls on one record run one at a time). */
interface RunningCall {
  readonly startedAt: number;
  /** Read the store, never the remembered record. */
  fresh: boolean;
  /** The last record decided on was read after this call began. */
  decisive: boolean;
  /** A write landed after that record was read. */
  wrote: boolean;
  /** A write that failed with an error was followed by a read once already. */
  recovered: boolean;
}

/** How {@link SemaphoreRecords} reaches the store. */
export interface SemaphoreRecordsOptions {
  /** Prefix of every record id (the backend's `keyPrefix`). */
  readonly keyPrefix: string;
  /** Random per backend, part of every write id. */
  readonly salt: string;
  /** Runs one store request under the backend's deadline. */
  readonly call: <T>(what: string, request: Promise<T>) => Promise<T>;
}

/**
 * The semaphore operations of a {@link DocstoreBackend} (its `semaphoreAcquire`, …). See the
 * module comment for how they cost one request per grant.
 */
export class SemaphoreRecords {
  readonly #collection: LeaseCollection;
  readonly #options: SemaphoreRecordsOptions;
  readonly #ops: SemaphoreOps;
  readonly #seen = new Map<string, Sighting>();
  readonly #running = new Map<string, RunningCall>();
  readonly #queues = new Map<string, Promise<void>>();

  constructor(collection: LeaseCollection, options: SemaphoreRecordsOptions) {
    this.#collection = collection;
    this.#options = options;
    // Core's fallback over this object's record primitive: the rules and the expiry clock are
    // core's own, not a copy of them.
    const records = {
      name: collection.name,
      readRecord: (key: string) => this.#readRecord(key),
      writeRecord: (key: string, value: string, expected: string | undefined) =>
        this.#writeRecord(key, value, expected),
    } as unknown as LockBackend;
    this.#ops = semaphoreOpsOf(records, systemClock);
  }

  /** The record id of the semaphore `key`. */
  id(key: string): string {
    return semaphoreRecordId(this.#options.keyPrefix, key, this.#collection);
  }

  acquire(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult> {
    return this.#run(request.key, 'acquire', false, () => this.#ops.acquire(request));
  }

  extend(request: ExtendRequest): Promise<SemaphoreOwnerResult> {
    return this.#run(request.key, 'extend', false, () => this.#ops.extend(request));
  }

  release(request: ReleaseRequest): Promise<SemaphoreOwnerResult> {
    return this.#run(request.key, 'release', false, () => this.#ops.release(request));
  }

  /** Always on a fresh read. */
  inspect(key: string): Promise<BackendSemaphoreInfo | undefined> {
    return this.#run(key, 'inspect', true, () => this.#ops.inspect(key));
  }

  /**
   * Notes a record the store's notifications delivered: its version is worth writing on, but
   * nothing is decided on it without a read (it may predate the call that uses it).
   */
  noteNotified(id: string, record: LeaseRecord | undefined): void {
    if (record === undefined) this.#seen.delete(id);
    else this.#remember(id, record, Number.NEGATIVE_INFINITY);
  }

  /** Forgets every remembered record. */
  clear(): void {
    this.#seen.clear();
  }

  async #run<T>(
    key: string,
    operation: string,
    fresh: boolean,
    apply: () => Promise<T>,
  ): Promise<T> {
    const id = this.id(key);
    return this.#oneAtATime(id, async () => {
      const call: RunningCall = {
        startedAt: performance.now(),
        fresh,
        decisive: true,
        wrote: false,
        recovered: false,
      };
      this.#running.set(id, call);
      try {
        const result = await apply();
        if (call.decisive || call.wrote) return result;
        // Decided on a remembered record, and nothing was written to confirm it: again, on a read.
        call.fresh = true;
        return await apply();
      } catch (error) {
        this.#seen.delete(id);
        throw toBackendError(error, this.#collection.name, `semaphore ${operation}`, key);
      } finally {
        this.#running.delete(id);
      }
    });
  }

  /** Runs `task` once every call on `id` started before it in this process has settled. */
  async #oneAtATime<T>(id: string, task: () => Promise<T>): Promise<T> {
    const before = this.#queues.get(id);
    let done: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = before === undefined ? mine : before.then(() => mine);
    this.#queues.set(id, tail);
    try {
      if (before !== undefined) await before;
      return await task();
    } finally {
      done();
      if (this.#queues.get(id) === tail) this.#queues.delete(id);
    }
  }

  async #readRecord(key: string): Promise<VersionedRecord | undefined> {
    const id = this.id(key);
    const call = this.#running.get(id);
    const seen = this.#seen.get(id);
    if (call !== undefined && !call.fresh && seen !== undefined) {
      call.decisive = seen.receivedAt >= call.startedAt;
      call.wrote = false;
      return versioned(seen.record);
    }
    const record = await this.#options.call('read', this.#collection.get(id));
    if (record === undefined) this.#seen.delete(id);
    else this.#remember(id, record, performance.now());
    if (call !== undefined) {
      call.decisive = true;
      call.wrote = false;
    }
    return record === undefined ? undefined : versioned(record);
  }

  async #writeRecord(
    key: string,
    value: string,
    expected: string | undefined,
  ): Promise<'ok' | 'conflict'> {
    const id = this.id(key);
    const fields: LeaseFields = {
      owner: null,
      leaseMs: 0,
      fence: 0,
      writeId: recordWriteId(expected, value, this.#options.salt),
      data: value,
    };
    let written: LeaseRecord | undefined;
    let current: LeaseRecord | null | undefined;
    try {
      if (expected === undefined) {
        const created = await this.#options.call('create', this.#collection.create(id, fields));
        if (created.created) written = created.record;
        else current = created.current;
      } else {
        const updated = await this.#options.call(
          'update',
          this.#collection.update(id, expected, fields),
        );
        if (updated.updated) written = updated.record;
        else current = updated.current;
      }
      if (written === undefined && current === undefined) {
        // The store did not say what it found (only DynamoDB does): read it now. Core reads it
        // next anyway and gets this one (read after the call began), so it costs nothing more.
        current = (await this.#options.call('read', this.#collection.get(id))) ?? null;
      }
    } catch (error) {
      this.#seen.delete(id);
      const call = this.#running.get(id);
      // The store answered with an error, not silence (the Firestore emulator answers a
      // conditional update with UNKNOWN now and then under load): once per call, read what
      // landed. Our write: done. Anything else: a conflict, and core decides again on the read.
      // A request that ran out of time is left to core as an unknown outcome.
      if (call === undefined || call.recovered || error instanceof DeadlineError) throw error;
      call.recovered = true;
      current = await this.#options.call('read', this.#collection.get(id)).catch(() => {
        throw error;
      });
      current ??= null;
    }
    // A failed condition on a record that carries this very write: it landed, and its reply was
    // lost to a driver that sent it again. Success, not a lost race (a release would otherwise
    // report its permits as already gone).
    if (current?.writeId === fields.writeId) written = current;
    if (written !== undefined) {
      this.#remember(id, written, performance.now());
      const call = this.#running.get(id);
      if (call !== undefined) call.wrote = true;
      return 'ok';
    }
    if (current === undefined || current === null) this.#seen.delete(id);
    else this.#remember(id, current, performance.now());
    return 'conflict';
  }

  #remember(id: string, record: LeaseRecord, receivedAt: number): void {
    this.#seen.delete(id);
    this.#seen.set(id, { record, receivedAt });
    if (this.#seen.size > MAX_REMEMBERED) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }
}

/** A record as core's fallback sees it: a record without a body is not JSON, and core says so. */
function versioned(record: LeaseRecord): VersionedRecord {
  return { value: record.data ?? '', version: record.version };
}

/**
 * The write id of a semaphore record written as `value` over version `expected`, by the backend
 * whose random `salt` it is: changes on every write, and lets a writer whose reply was lost
 * recognise its own write (see `write-id.ts`).
 */
function recordWriteId(expected: string | undefined, value: string, salt: string): string {
  return createHash('sha256')
    .update(`${expected ?? 'new'}\nsemaphore\n${salt}\n`)
    .update(value)
    .digest('base64url')
    .slice(0, 22);
}

/**
 * The owners (holders and waiters) in a semaphore record's body, or `undefined` when it is not
 * one. Notifications wake waiters only when someone left (permits freed, the line moved), not
 * on every grant or renewal.
 */
export function ownersOf(data: string | undefined): Set<string> | undefined {
  if (data === undefined) return undefined;
  try {
    const body = JSON.parse(data) as {
      holders?: readonly { o?: unknown }[];
      waiters?: readonly { o?: unknown }[];
    };
    if (!Array.isArray(body.holders) || !Array.isArray(body.waiters)) return undefined;
    const owners = new Set<string>();
    for (const entry of [...body.holders, ...body.waiters]) {
      if (typeof entry?.o === 'string') owners.add(entry.o);
    }
    return owners;
  } catch {
    return undefined;
  }
}
