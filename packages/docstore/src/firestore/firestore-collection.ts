/**
 * The lease collection over a Firestore collection. One document per lock:
 * `{ owner, leaseMs, fence, v }`; the record version is the document's update time, which
 * Firestore sets on every write and checks in a `lastUpdateTime` precondition. A read returns
 * both the update time and the read time, both by Firestore's clock, so the time a holder has
 * left is known from one request without trusting any client's clock.
 * @module
 */
import {
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  Timestamp,
  type WriteResult,
} from '@google-cloud/firestore';
import type {
  CreateResult,
  LeaseCollection,
  LeaseFields,
  LeaseRecord,
  UpdateRequest,
  UpdateResult,
} from '../collection.js';
import { DEFAULT_OPERATION_TIMEOUT_MS } from '../options.js';

/** gRPC status codes Firestore answers a failed condition with. */
const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

/** Firestore's limit of writes in one batch. */
export const MAX_BATCH_WRITES = 500;

interface LockData {
  owner: string | null;
  leaseMs: number;
  fence: number;
  v: string;
  /** A semaphore record's body (see {@link LeaseFields.data}); absent on lock documents. */
  data?: string;
}

/** {@link LeaseCollection} over one Firestore collection. */
export class FirestoreLeaseCollection implements LeaseCollection {
  readonly name = 'firestore';
  /** Firestore's limit for a document id. */
  readonly maxIdBytes = 1500;
  /** The collection's path. */
  readonly path: string;
  readonly #firestore: Firestore;
  readonly #ownsClient: boolean;
  readonly #closeTimeoutMs: number;
  /** SDK requests not settled yet (ours may have given up on them: see {@link close}). */
  #inFlight = 0;
  /** Called when the last request in flight settles, once {@link close} waits for that. */
  #onIdle: (() => void) | undefined;
  #terminated: Promise<void> | undefined;

  /**
   * @param firestore the client; terminated by {@link close} when `ownsClient`.
   * @param path the collection of lock documents.
   * @param closeTimeoutMs the longest {@link close} waits for the client to be terminated.
   */
  constructor(
    firestore: Firestore,
    path: string,
    ownsClient: boolean,
    closeTimeoutMs: number = DEFAULT_OPERATION_TIMEOUT_MS,
  ) {
    this.#firestore = firestore;
    this.path = path;
    this.#ownsClient = ownsClient;
    this.#closeTimeoutMs = closeTimeoutMs;
  }

  /** Ids Firestore cannot take: with a `/`, `.` or `..`, or of the form `__…__`. */
  unsafeId(id: string): boolean {
    return id.includes('/') || id === '.' || id === '..' || /^__.*__$/.test(id);
  }

  #ref(id: string): DocumentReference {
    return this.#firestore.collection(this.path).doc(id);
  }

  async get(id: string): Promise<LeaseRecord | undefined> {
    return toRecord(await this.#track(this.#ref(id).get()));
  }

  async create(id: string, fields: LeaseFields): Promise<CreateResult> {
    try {
      const result = await this.#track(this.#ref(id).create(toData(fields)));
      return { created: true, record: written(fields, result) };
    } catch (error) {
      if (codeOf(error) === ALREADY_EXISTS) return { created: false };
      throw error;
    }
  }

  async update(id: string, expected: string, fields: LeaseFields): Promise<UpdateResult> {
    try {
      const result = await this.#track(
        this.#ref(id).update(toData(fields), { lastUpdateTime: toTimestamp(expected) }),
      );
      return { updated: true, record: written(fields, result) };
    } catch (error) {
      const code = codeOf(error);
      if (code === NOT_FOUND) return { updated: false, current: null };
      if (code === FAILED_PRECONDITION) return { updated: false };
      throw error;
    }
  }

  async delete(id: string, expected: string): Promise<boolean> {
    try {
      await this.#track(this.#ref(id).delete({ lastUpdateTime: toTimestamp(expected) }));
      return true;
    } catch (error) {
      const code = codeOf(error);
      if (code === NOT_FOUND || code === FAILED_PRECONDITION) return false;
      throw error;
    }
  }

  /**
   * Batched writes of up to 500 updates, each with its own `lastUpdateTime` precondition. A
   * batch is all or nothing and does not say which precondition failed, so a batch that fails
   * on one is sent again as single updates.
   */
  async updateMany(requests: readonly UpdateRequest[]): Promise<UpdateResult[]> {
    const chunks: UpdateRequest[][] = [];
    for (let start = 0; start < requests.length; start += MAX_BATCH_WRITES) {
      chunks.push(requests.slice(start, start + MAX_BATCH_WRITES));
    }
    // In parallel: a keepalive tick must finish within the tick, whatever the number of locks.
    return (await Promise.all(chunks.map((chunk) => this.#batchUpdate(chunk)))).flat();
  }

  async #batchUpdate(chunk: readonly UpdateRequest[]): Promise<UpdateResult[]> {
    const batch = this.#firestore.batch();
    for (const { id, expected, fields } of chunk) {
      batch.update(this.#ref(id), toData(fields), { lastUpdateTime: toTimestamp(expected) });
    }
    try {
      const writes = await this.#track(batch.commit());
      return chunk.map(({ fields }, i) => ({
        updated: true,
        record: written(fields, writes[i] as WriteResult),
      }));
    } catch (error) {
      const code = codeOf(error);
      if (code !== FAILED_PRECONDITION && code !== NOT_FOUND) throw error;
      return Promise.all(
        chunk.map(({ id, expected, fields }) => this.update(id, expected, fields)),
      );
    }
  }

  /** A snapshot listener on the document of `id`. */
  watch(id: string, onChange: (record: LeaseRecord | undefined) => void): () => void {
    return this.#ref(id).onSnapshot(
      (snapshot) => onChange(toRecord(snapshot)),
      // The listener has stopped: wake the waiters, whose next try reports the failure.
      () => onChange(undefined),
    );
  }

  /** Counts `request` as in flight until it settles. */
  #track<T>(request: Promise<T>): Promise<T> {
    this.#inFlight += 1;
    const settled = () => {
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#onIdle?.();
    };
    request.then(settled, settled);
    return request;
  }

  /**
   * Terminates a client this package created, and resolves once it is terminated: its
   * requests have settled, its streams (listeners the backend stopped before this) have ended
   * and its channels are closed, so nothing of it can fire afterwards. At most
   * `closeTimeoutMs`, though; then the client is terminated in the background and
   * {@link terminated} says when.
   *
   * Why it can take long: the SDK rejects a request still in flight at `terminate()` with an
   * error nobody can catch (an unhandled rejection, which ends a Node process), so the client
   * is terminated only once its last request has settled. Against an unreachable server the
   * SDK keeps retrying whatever deadlines it is given: a write for up to 10 minutes (its commit
   * retry settings are fixed), a read five times (~45 s). Our calls gave up on those requests
   * long before, so when they are still in flight after `closeTimeoutMs` the client's gRPC
   * clients are closed, which ends the write retries at once and the reads' within their five
   * tries.
   */
  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    this.#terminated ??= this.#terminateWhenIdle();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#closeTimeoutMs);
      timer.unref?.();
    });
    try {
      await Promise.race([this.#terminated, bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves once the client this collection created is terminated after {@link close}
   * (at once when the client is the user's, or close() was not called). For tests and
   * shutdown code that must know nothing of the client is left running.
   */
  get terminated(): Promise<void> {
    return this.#terminated ?? Promise.resolve();
  }

  async #terminateWhenIdle(): Promise<void> {
    if (this.#inFlight > 0) {
      const idle = new Promise<void>((resolve) => {
        this.#onIdle = resolve;
      });
      const abandon = setTimeout(() => closeGrpcClients(this.#firestore), this.#closeTimeoutMs);
      abandon.unref?.();
      await idle;
      clearTimeout(abandon);
    }
    // Rejects only if a listener is still registered (the backend stops them before this).
    await this.#firestore.terminate().catch(() => {});
  }
}

/**
 * Closes the gRPC clients of `firestore`'s client pool, which makes the SDK's retries of
 * requests still in flight fail instead of going on for minutes. The SDK has no public way to
 * do this (`terminate()` waits for those requests, and throws uncaught if made not to): this
 * reaches into its pool, so it checks every step and does nothing if the SDK's shape changed.
 */
function closeGrpcClients(firestore: Firestore): void {
  const pool = (firestore as unknown as { _clientPool?: { activeClients?: unknown } })._clientPool;
  const clients = pool?.activeClients;
  if (!(clients instanceof Map)) return;
  for (const client of clients.keys()) {
    const close = (client as { close?: () => Promise<void> } | null)?.close;
    if (typeof close === 'function') close.call(client).catch(() => {});
  }
}

function toData(fields: LeaseFields): LockData {
  const data = {
    owner: fields.owner,
    leaseMs: fields.leaseMs,
    fence: fields.fence,
    v: fields.writeId,
  };
  // Firestore refuses `undefined` values: a lock document has no `data` field at all.
  return fields.data === undefined ? data : { ...data, data: fields.data };
}

function written(fields: LeaseFields, result: WriteResult): LeaseRecord {
  return { ...fields, version: fromTimestamp(result.writeTime) };
}

function toRecord(snapshot: DocumentSnapshot): LeaseRecord | undefined {
  if (!snapshot.exists || snapshot.updateTime === undefined) return undefined;
  const data = snapshot.data() as Partial<LockData>;
  const leaseMs = Number(data.leaseMs ?? 0);
  const owner = data.owner ?? null;
  const elapsed = snapshot.readTime.toMillis() - snapshot.updateTime.toMillis();
  return {
    owner,
    leaseMs,
    fence: Number(data.fence ?? 0),
    writeId: data.v ?? '',
    version: fromTimestamp(snapshot.updateTime),
    remainingMs: owner === null ? undefined : leaseMs - elapsed,
    ...(typeof data.data === 'string' ? { data: data.data } : {}),
  };
}

/** A timestamp as an exact string (`seconds.nanoseconds`), the record version. */
function fromTimestamp(timestamp: Timestamp): string {
  return `${timestamp.seconds}.${String(timestamp.nanoseconds).padStart(9, '0')}`;
}

function toTimestamp(version: string): Timestamp {
  const [seconds, nanos] = version.split('.');
  return new Timestamp(Number(seconds), Number(nanos));
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}
