/**
 * The lease collection over a MongoDB collection (or FerretDB, which speaks its protocol). One
 * document per lock: `{ _id, owner, leaseMs, fence, v, at }`, where `v` (the write id) is the
 * record version every conditional write filters on and `at` the server's time of the last
 * write (`$currentDate`), kept for an optional TTL clean-up. Correctness needs no update
 * pipeline, `$expr`, TTL index or change stream, none of which FerretDB 1.24 has.
 * @module
 */
import type { Collection, MongoClient } from 'mongodb';
import type {
  CreateResult,
  LeaseCollection,
  LeaseFields,
  LeaseRecord,
  UpdateRequest,
  UpdateResult,
} from '../collection.js';

/** A lock document as stored. */
export interface LockDocument {
  _id: string;
  owner: string | null;
  leaseMs: number;
  fence: number;
  v: string;
  /** A semaphore record's body (see {@link LeaseFields.data}); absent on lock documents. */
  d?: string;
  at?: Date;
}

/** Duplicate key: the document exists. */
const DUPLICATE_KEY = 11000;

/** A version no document carries: an upsert filtered on it fails on an existing `_id`. */
const NO_VERSION = '';

const PROJECTION = { owner: 1, leaseMs: 1, fence: 1, v: 1, d: 1 } as const;

/**
 * Most updates in one `bulkWrite`. FerretDB 1.24 never answered an unordered bulk update of 100
 * documents here (60 took 130 ms), so renewals go out in bulks of 50: 10,000 held locks cost
 * 200 requests per keepalive tick.
 */
export const MAX_BULK_UPDATES = 50;

/** {@link LeaseCollection} over one MongoDB collection. */
export class MongoLeaseCollection implements LeaseCollection {
  readonly name = 'mongodb';
  /** MongoDB takes `_id` strings up to the 16 MB document limit; ids stay well below. */
  readonly maxIdBytes = 1024;
  readonly #collection: Collection<LockDocument>;
  readonly #ownedClient: MongoClient | undefined;
  #connected: Promise<unknown> | undefined;

  /**
   * @param collection the collection of lock documents, with write concern `majority` (see the
   * README: a renewal rolled back by a failover would let a waiter in early).
   * @param ownedClient a client to close in {@link close} (one this package created).
   */
  constructor(collection: Collection<LockDocument>, ownedClient?: MongoClient) {
    this.#collection = collection;
    this.#ownedClient = ownedClient;
  }

  /**
   * Connects a client this package created, again after a failure. The driver connects on the
   * first operation by itself, but when that first connect fails (the server down or silent at
   * start) its topology stays closed and every later operation fails with "Topology is closed".
   */
  #ready(): Promise<unknown> | undefined {
    if (this.#ownedClient === undefined) return undefined;
    if (this.#connected === undefined) {
      const connecting = this.#ownedClient.connect();
      this.#connected = connecting;
      connecting.catch(() => {
        if (this.#connected === connecting) this.#connected = undefined;
      });
    }
    return this.#connected;
  }

  async get(id: string): Promise<LeaseRecord | undefined> {
    await this.#ready();
    const document = await this.#collection.findOne({ _id: id }, { projection: PROJECTION });
    return document === null ? undefined : toRecord(document);
  }

  /**
   * An upsert filtered on a version no document has: it inserts when `_id` is free and fails
   * with a duplicate key error when it is taken, and stamps the server's time on the way.
   */
  async create(id: string, fields: LeaseFields): Promise<CreateResult> {
    await this.#ready();
    try {
      await this.#collection.updateOne({ _id: id, v: NO_VERSION }, toUpdate(fields), {
        upsert: true,
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return { created: false };
      throw error;
    }
    return { created: true, record: { ...fields, version: fields.writeId } };
  }

  async update(id: string, expected: string, fields: LeaseFields): Promise<UpdateResult> {
    await this.#ready();
    const result = await this.#collection.updateOne({ _id: id, v: expected }, toUpdate(fields));
    if (result.matchedCount === 1) {
      return { updated: true, record: { ...fields, version: fields.writeId } };
    }
    return { updated: false };
  }

  async delete(id: string, expected: string): Promise<boolean> {
    await this.#ready();
    const result = await this.#collection.deleteOne({ _id: id, v: expected });
    return result.deletedCount === 1;
  }

  /**
   * Unordered `bulkWrite`s of conditional updates, {@link MAX_BULK_UPDATES} at a time. MongoDB
   * reports only how many matched;
   * when some did not, one `find` of the batch's documents tells which by their write ids.
   */
  async updateMany(requests: readonly UpdateRequest[]): Promise<UpdateResult[]> {
    const chunks: UpdateRequest[][] = [];
    for (let start = 0; start < requests.length; start += MAX_BULK_UPDATES) {
      chunks.push(requests.slice(start, start + MAX_BULK_UPDATES));
    }
    // In parallel: a keepalive tick must finish within the tick, whatever the number of locks.
    return (await Promise.all(chunks.map((chunk) => this.#bulkUpdate(chunk)))).flat();
  }

  async #bulkUpdate(requests: readonly UpdateRequest[]): Promise<UpdateResult[]> {
    await this.#ready();
    const result = await this.#collection.bulkWrite(
      requests.map(({ id, expected, fields }) => ({
        updateOne: {
          filter: { _id: id, v: expected },
          update: toUpdate(fields),
        },
      })),
      { ordered: false },
    );
    if (result.matchedCount === requests.length) {
      return requests.map(({ fields }) => ({
        updated: true,
        record: { ...fields, version: fields.writeId },
      }));
    }
    const documents = await this.#collection
      .find({ _id: { $in: requests.map(({ id }) => id) } }, { projection: PROJECTION })
      .toArray();
    const byId = new Map(documents.map((document) => [document._id, document]));
    return requests.map(({ id, fields }): UpdateResult => {
      const document = byId.get(id);
      if (document?.v === fields.writeId) {
        return { updated: true, record: { ...fields, version: fields.writeId } };
      }
      return { updated: false, current: document === undefined ? null : toRecord(document) };
    });
  }

  async close(): Promise<void> {
    await this.#ownedClient?.close();
  }
}

/**
 * The update writing `fields`. Lock documents get the server's time in `at` (for the optional
 * TTL clean-up); semaphore records get none, so a TTL index never deletes them: their fence
 * counter lives in their body and would restart at 1.
 */
function toUpdate(fields: LeaseFields) {
  if (fields.data !== undefined) return { $set: toDocumentFields(fields) };
  return { $set: toDocumentFields(fields), $currentDate: { at: true as const } };
}

function toDocumentFields(fields: LeaseFields): Omit<LockDocument, '_id' | 'at'> {
  const document = {
    owner: fields.owner,
    leaseMs: fields.leaseMs,
    fence: fields.fence,
    v: fields.writeId,
  };
  return fields.data === undefined ? document : { ...document, d: fields.data };
}

function toRecord(
  document: Pick<LockDocument, 'owner' | 'leaseMs' | 'fence' | 'v' | 'd'>,
): LeaseRecord {
  return {
    owner: document.owner ?? null,
    leaseMs: Number(document.leaseMs),
    fence: Number(document.fence),
    writeId: document.v,
    version: document.v,
    ...(typeof document.d === 'string' ? { data: document.d } : {}),
  };
}
