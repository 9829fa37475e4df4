/**
 * The small collection interface the lease algorithm is written against, once for every store:
 * read one record, create it if absent, and update or delete it only if its version is still
 * the one the caller saw. Adapters (`./mongodb`, `./dynamodb`, `./firestore`) implement it
 * over their store's own conditional writes.
 * @module
 */

/** The fields of a lock record that the lease algorithm writes. */
export interface LeaseFields {
  /** The holder's owner token, or `null` when the lock is free. */
  readonly owner: string | null;
  /** The holder's lease duration in ms (0 when free). */
  readonly leaseMs: number;
  /** Fencing counter: grows by one on every acquisition, never reset by a release. */
  readonly fence: number;
  /**
   * Id of the write that made this record, computed by the writer from the previous write's id,
   * the owner and the operation (see `write-id.ts`). It changes on every write, and a writer
   * whose reply was lost can tell from it whether its own write landed.
   */
  readonly writeId: string;
  /**
   * The record's body when it is not a lock: a semaphore or read-write lock record (core's JSON,
   * see `semaphore-records.ts`). Lock records have none; adapters store it as one string field.
   */
  readonly data?: string | undefined;
}

/** Opaque version of a record: what a conditional write compares (an update time, a write id). */
export type RecordVersion = string;

/** A lock record as read from the store. */
export interface LeaseRecord extends LeaseFields {
  /** The store's record version of this record; conditional writes compare it. */
  readonly version: RecordVersion;
  /**
   * Milliseconds the holder had left when the store served this record, by the store's own
   * clock, for adapters that can tell in the same request (Firestore: update and read times).
   * `undefined` when the adapter cannot: the waiter then counts a full lease on its own
   * monotonic clock from when it first saw this version (Amazon's DynamoDB lock client method).
   */
  readonly remainingMs?: number | undefined;
}

/** Result of {@link LeaseCollection.create}. */
export type CreateResult =
  | { readonly created: true; readonly record: LeaseRecord }
  /** The record exists; `current` when the store returned it with the failure. */
  | { readonly created: false; readonly current?: LeaseRecord | undefined };

/** Result of {@link LeaseCollection.update}. */
export type UpdateResult =
  | { readonly updated: true; readonly record: LeaseRecord }
  /**
   * The record's version was not the expected one (or it is gone). `current` when the store
   * returned the record with the failure (`null`: it is gone); `undefined` means "read it".
   */
  | { readonly updated: false; readonly current?: LeaseRecord | null | undefined };

/** One conditional update in a batch. */
export interface UpdateRequest {
  readonly id: string;
  readonly expected: RecordVersion;
  readonly fields: LeaseFields;
}

/**
 * A collection of lock records in one document store. Every method is one request (or one
 * batch), bounded by the caller's deadline. A failed condition is a result, never an error;
 * methods reject only for real failures.
 */
export interface LeaseCollection {
  /** Store name for messages and benchmarks, such as `"mongodb"`. */
  readonly name: string;
  /** The record of `id`, or `undefined` when there is none. A strongly consistent read. */
  get(id: string): Promise<LeaseRecord | undefined>;
  /** Creates the record of `id` with `fields` if there is none. */
  create(id: string, fields: LeaseFields): Promise<CreateResult>;
  /** Replaces the fields of `id` with `fields` if its version is still `expected`. */
  update(id: string, expected: RecordVersion, fields: LeaseFields): Promise<UpdateResult>;
  /** Deletes the record of `id` if its version is still `expected`; true when it did. */
  delete(id: string, expected: RecordVersion): Promise<boolean>;
  /**
   * Optional: many conditional updates in as few requests as the store allows (a bulk write,
   * a transaction, a batch). Results come back in request order; each is independent.
   */
  updateMany?(requests: readonly UpdateRequest[]): Promise<UpdateResult[]>;
  /**
   * Optional: calls `onChange` with the record (or `undefined` when deleted) whenever the record
   * of `id` changes, from the store's own notifications (Firestore snapshot listeners).
   */
  watch?(id: string, onChange: (record: LeaseRecord | undefined) => void): () => void;
  /** The longest id the store takes, in UTF-8 bytes; longer ids are digested. */
  readonly maxIdBytes: number;
  /** True when `id` is one the store cannot take as is (such as one with a `/` in Firestore). */
  readonly unsafeId?: (id: string) => boolean;
  /** Closes what the adapter opened (never a client the user passed in). */
  close(): Promise<void>;
}
