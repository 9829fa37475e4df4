import { randomBytes } from 'node:crypto';
import type {
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  BackendSemaphoreInfo,
  ExtendRequest,
  LockBackend,
  OwnerCheckedResult,
  ReleaseRequest,
  SemaphoreAcquireRequest,
  SemaphoreAcquireResult,
  SemaphoreOwnerResult,
  Unsubscribe,
} from '@lock/core';
import { LockClosedError } from '@lock/core';
import type {
  LeaseCollection,
  LeaseFields,
  LeaseRecord,
  UpdateRequest,
  UpdateResult,
} from './collection.js';
import { withDeadline } from './deadline.js';
import { toBackendError } from './errors.js';
import { initialFence } from './fence.js';
import { recordId } from './ids.js';
import { type Observation, Observations } from './observations.js';
import { DEFAULT_OPERATION_TIMEOUT_MS, type LeaseOptions } from './options.js';
import { ownersOf, SemaphoreRecords } from './semaphore-records.js';
import { nextWriteId, type WriteOperation } from './write-id.js';

/** Most writes one call makes while the record keeps changing under it. */
const MAX_ATTEMPTS = 4;

/** A record id's listeners on the store's notifications, shared by every waiter of that key. */
interface Listening {
  readonly subscribers: Set<() => void>;
  readonly stop: () => void;
  /** The listener on the key's semaphore record, once this process used the key as one. */
  stopSemaphore?: (() => void) | undefined;
}

/** Most keys remembered as used for semaphores (for their listeners); the oldest go first. */
const MAX_SEMAPHORE_KEYS = 10_000;

/**
 * The lease algorithm, written once against a {@link LeaseCollection}: a lock is a record with
 * the holder's owner token, lease, fence and write id, taken and renewed by writes conditioned
 * on the record version last seen. Records are never deleted by the lock (release marks them
 * free), so fences keep growing. Use an adapter's factory (`@lock/docstore/mongodb`, …) rather
 * than this class directly.
 *
 * Expiry: a holder's lease is over for a waiter once the store's own clock says so (adapters
 * that read it in one request), or once the waiter has seen the same record version for a full
 * lease by its own monotonic clock (Amazon's DynamoDB lock client method). Either way, a
 * takeover is a write conditioned on that version, so a holder that renewed in time wins.
 */
export class DocstoreBackend implements LockBackend {
  /** Short name for messages and benchmarks, such as `"mongodb"`. */
  readonly name: string;
  /** The collection this backend writes to. */
  readonly collection: LeaseCollection;
  /** Prefix of every record id this backend writes. */
  readonly keyPrefix: string;
  readonly #timeoutMs: number;
  readonly #seen = new Observations();
  readonly #listening = new Map<string, Listening>();
  /**
   * Reads in flight per record id, with when each was sent: a call shares one sent after it
   * began (so many waiters polling one key cost one read), never an older one, whose answer
   * may predate a release the caller has already seen.
   */
  readonly #reading = new Map<
    string,
    { readonly sentAt: number; readonly reply: Promise<Observation | undefined> }
  >();
  /**
   * The read per record id that starts when the one in flight is answered, shared by every
   * call that began after that one was sent: however many waiters poll one key, at most two
   * reads of it are out at once, and each waiter's answer was read after it asked.
   */
  readonly #nextReading = new Map<string, Promise<Observation | undefined>>();
  /**
   * Acquiring writes in flight per record id: a second acquire of the same record waits for the
   * first one's outcome instead of sending a write that would race it (one write per version
   * per process, not one per waiter, when a lock is handed over).
   */
  readonly #acquiring = new Map<string, Promise<unknown>>();
  /**
   * Owner-checked writes (renewals, releases) in flight per record id, each bounded by the
   * operation deadline. The next one of the same record waits for its outcome and writes on
   * the version it produced: a renewal that outlived its keepalive tick (a slow store) would
   * otherwise make the next tick's renewal fail its condition, which then costs a read and a
   * write more per lock, and slows the store down further.
   */
  readonly #ownerWrites = new Map<string, Promise<unknown>>();
  /** Random per backend, part of every write id (see `write-id.ts`). */
  readonly #salt = randomBytes(9).toString('base64url');
  readonly #semaphores: SemaphoreRecords;
  /** Keys this process used as semaphores: their waiters also listen to the semaphore record. */
  readonly #semaphoreKeys = new Set<string>();
  #closed = false;

  /**
   * Present when the store notifies (Firestore): calls `onChange` when the record of `key` is
   * released, deleted or rewritten. Waiters of one key share one store listener.
   */
  declare readonly watch?: (key: string, onChange: () => void) => Unsubscribe;

  /** @param collection an adapter's collection; closed by {@link close}. */
  constructor(collection: LeaseCollection, options: LeaseOptions = {}) {
    this.collection = collection;
    this.name = collection.name;
    this.keyPrefix = options.keyPrefix ?? '';
    this.#timeoutMs = options.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT_MS;
    this.#semaphores = new SemaphoreRecords(collection, {
      keyPrefix: this.keyPrefix,
      salt: this.#salt,
      call: (what, request) => this.#call(what, request),
    });
    if (collection.watch !== undefined) {
      Object.defineProperty(this, 'watch', {
        value: (key: string, onChange: () => void) => this.#watch(key, onChange),
      });
    }
  }

  /**
   * Takes `key`: creates its record when there is none, else writes over a free or expired one
   * conditioned on the version seen. One request when this process knows the record's version
   * (it wrote or watched it last); a read more otherwise.
   */
  async acquire({ key, owner, ttlMs }: AcquireRequest): Promise<AcquireResult> {
    this.#assertOpen();
    const id = this.#id(key);
    try {
      return await this.#acquire(id, owner, ttlMs);
    } catch (error) {
      throw toBackendError(error, this.name, 'acquire', key);
    }
  }

  async #acquire(id: string, owner: string, ttlMs: number): Promise<AcquireResult> {
    const startedAt = performance.now();
    let seen = this.#seen.get(id);
    let fresh = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (seen === undefined) {
        const fields: LeaseFields = {
          owner,
          leaseMs: ttlMs,
          fence: initialFence(),
          writeId: nextWriteId(undefined, owner, 'acquire', ttlMs, this.#salt),
        };
        const other = this.#acquiring.get(id);
        if (other !== undefined) {
          // Another acquire of this process is creating it: its outcome (or a read) decides.
          await other.catch(() => {});
          seen = this.#seen.get(id) ?? (await this.#observe(id, undefined, startedAt));
          fresh = true;
          continue;
        }
        const created = await this.#acquiringWrite(
          id,
          this.collection.create(id, fields),
          'create',
        );
        if (created.created) return this.#granted(id, created.record);
        seen = await this.#observe(id, created.current, startedAt);
        fresh = true;
        if (seen?.record.owner === owner) return this.#granted(id, seen.record);
        continue;
      }
      const record = seen.record;
      if (record.owner === owner) {
        // This owner's own earlier write landed (its reply was lost): granted, if still so.
        if (fresh) return this.#granted(id, record);
        seen = await this.#observe(id, undefined);
        fresh = true;
        continue;
      }
      if (record.owner !== null && performance.now() < seen.expiresAt) {
        if (fresh) return denied(seen);
        seen = await this.#observe(id, undefined, startedAt);
        fresh = true;
        continue;
      }
      const fields: LeaseFields = {
        owner,
        leaseMs: ttlMs,
        fence: record.fence + 1,
        writeId: nextWriteId(record.writeId, owner, 'acquire', ttlMs, this.#salt),
      };
      const other = this.#acquiring.get(id);
      if (other !== undefined) {
        // Another acquire of this process is writing over the same record: its outcome decides.
        await other.catch(() => {});
        seen = this.#seen.get(id);
        fresh = true;
        continue;
      }
      const updated = await this.#acquiringWrite(
        id,
        this.collection.update(id, record.version, fields),
        'update',
      );
      if (updated.updated) return this.#granted(id, updated.record);
      seen = await this.#observeFailure(id, updated);
      fresh = true;
      if (seen?.record.owner === owner) return this.#granted(id, seen.record);
    }
    return seen === undefined ? { acquired: false } : denied(seen);
  }

  /**
   * Settles when the owner-checked writes of this process now in flight on any of `ids` have,
   * or after `boundMs`.
   */
  async #ownerWritesOn(ids: readonly string[], boundMs: number): Promise<void> {
    const pending = new Set<Promise<unknown>>();
    for (const id of ids) {
      const write = this.#ownerWrites.get(id);
      if (write !== undefined) pending.add(write);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, boundMs));
      timer.unref?.();
    });
    try {
      await Promise.race([Promise.all(pending), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits (at most `boundMs`) until no owner-checked write of this process is in flight on
   * `ids`. The bound is a third of the lease, about core's keepalive tick: a write that hangs
   * (its reply lost) must not hold the next renewal back until the operation deadline; past the
   * bound the next one goes out anyway, as it would without this wait. Callers check
   * {@link #hasOwnerWrite} first and skip this when it is false (no `await`), so a write with
   * none before it registers before any other call looks; two calls that both waited may still
   * race each other, and then one condition fails and is handled like any lost race.
   */
  async #afterOwnerWrites(ids: readonly string[], boundMs: number): Promise<void> {
    const until = performance.now() + boundMs;
    while (this.#hasOwnerWrite(ids) && performance.now() < until) {
      await this.#ownerWritesOn(ids, until - performance.now());
    }
  }

  #hasOwnerWrite(ids: readonly string[]): boolean {
    return ids.some((id) => this.#ownerWrites.has(id));
  }

  /** Runs an owner-checked write on `ids` (already under a deadline), known until it settles. */
  async #ownerWrite<T>(ids: readonly string[], request: Promise<T>): Promise<T> {
    const settled = request.then(
      () => {},
      () => {},
    );
    for (const id of ids) this.#ownerWrites.set(id, settled);
    try {
      return await request;
    } finally {
      for (const id of ids) {
        if (this.#ownerWrites.get(id) === settled) this.#ownerWrites.delete(id);
      }
    }
  }

  /** Runs an acquiring write on `id`, known to other acquires of `id` until it settles. */
  async #acquiringWrite<T>(id: string, request: Promise<T>, what: string): Promise<T> {
    const call = this.#call(what, request);
    const settled = call.then(
      () => {},
      () => {},
    );
    this.#acquiring.set(id, settled);
    try {
      return await call;
    } finally {
      if (this.#acquiring.get(id) === settled) this.#acquiring.delete(id);
    }
  }

  #granted(id: string, record: LeaseRecord): AcquireResult {
    this.#seen.see(id, record, performance.now());
    return { acquired: true, fence: record.fence };
  }

  /** Renews `owner`'s lease on `key` for `ttlMs`, conditioned on the version it last wrote. */
  async extend({ key, owner, ttlMs }: ExtendRequest): Promise<OwnerCheckedResult> {
    this.#assertOpen();
    try {
      return await this.#ownerChecked(this.#id(key), owner, 'extend', ttlMs);
    } catch (error) {
      throw toBackendError(error, this.name, 'extend', key);
    }
  }

  /**
   * Renews many leases: through the collection's batched write when it has one (a bulk write,
   * transactions, a batch), each conditioned on its own version; calls whose version this
   * process does not know, or whose condition failed, are then done one by one.
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    this.#assertOpen();
    const updateMany = this.collection.updateMany?.bind(this.collection);
    if (updateMany === undefined || requests.length < 2) {
      return Promise.all(requests.map((request) => this.extend(request)));
    }
    const ids = requests.map(({ key }) => this.#id(key));
    if (this.#hasOwnerWrite(ids)) {
      const shortest = requests.reduce((least, { ttlMs }) => Math.min(least, ttlMs), Infinity);
      await this.#afterOwnerWrites(ids, shortest / 3);
    }
    const results: (OwnerCheckedResult | undefined)[] = new Array(requests.length);
    const batch: UpdateRequest[] = [];
    const positions: number[] = [];
    requests.forEach(({ key, owner, ttlMs }, index) => {
      const id = this.#id(key);
      const record = this.#seen.get(id)?.record;
      if (record?.owner !== owner) return;
      batch.push({
        id,
        expected: record.version,
        fields: renewal(record, owner, ttlMs, this.#salt),
      });
      positions.push(index);
    });
    if (batch.length > 0) {
      let updated: UpdateResult[];
      try {
        updated = await this.#ownerWrite(
          batch.map(({ id }) => id),
          this.#call('batched update', updateMany(batch)),
        );
      } catch (error) {
        throw toBackendError(error, this.name, 'extend');
      }
      const receivedAt = performance.now();
      updated.forEach((result, i) => {
        if (!result.updated) return;
        this.#seen.see((batch[i] as UpdateRequest).id, result.record, receivedAt);
        results[positions[i] as number] = 'ok';
      });
    }
    return Promise.all(requests.map((request, index) => results[index] ?? this.extend(request)));
  }

  /** Marks `key` free if `owner` holds it, conditioned on the version it last wrote. */
  async release({ key, owner }: ReleaseRequest): Promise<OwnerCheckedResult> {
    this.#assertOpen();
    try {
      return await this.#ownerChecked(this.#id(key), owner, 'release', 0);
    } catch (error) {
      throw toBackendError(error, this.name, 'release', key);
    }
  }

  /**
   * An owner-checked write (extend or release): first on the version this process last saw
   * (one request), else on the version of a fresh read that shows `owner` as the holder. A
   * failed condition whose record carries this very write's id means the write landed
   * (a lost reply, a driver's retry): that is success, not a lost race.
   */
  async #ownerChecked(
    id: string,
    owner: string,
    operation: Exclude<WriteOperation, 'acquire'>,
    ttlMs: number,
  ): Promise<OwnerCheckedResult> {
    let seen = this.#seen.get(id);
    let fresh = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (this.#hasOwnerWrite([id])) {
        const leaseMs = operation === 'extend' ? ttlMs : (seen?.record.leaseMs ?? 0);
        await this.#afterOwnerWrites([id], leaseMs / 3);
        seen = this.#seen.get(id);
        fresh = false;
      }
      const record = seen?.record;
      if (record === undefined || record.owner !== owner) {
        if (fresh) return verdict(record);
        // Not a shared read: one sent before this owner's own acquire landed would show it lost.
        seen = await this.#observe(id, undefined);
        fresh = true;
        continue;
      }
      const fields =
        operation === 'extend'
          ? renewal(record, owner, ttlMs, this.#salt)
          : {
              owner: null,
              leaseMs: 0,
              fence: record.fence,
              writeId: nextWriteId(record.writeId, owner, 'release', 0, this.#salt),
            };
      const updated = await this.#ownerWrite(
        [id],
        this.#call('update', this.collection.update(id, record.version, fields)),
      );
      if (updated.updated) {
        this.#seen.see(id, updated.record, performance.now());
        return 'ok';
      }
      seen = await this.#observeFailure(id, updated);
      fresh = true;
      if (seen?.record.writeId === fields.writeId) return 'ok';
    }
    throw new Error(`the record kept changing during ${MAX_ATTEMPTS} conditional writes`);
  }

  /**
   * Who holds `key`: `undefined` when its record is free, missing, or its lease is over by the
   * store's clock (or by this process's sightings). `remainingMs` is the most the holder can
   * have left: by the store's clock where the adapter reads it, else a full lease from when
   * this process first saw the record's version.
   */
  async inspect(key: string): Promise<BackendLockInfo | undefined> {
    this.#assertOpen();
    try {
      const seen = await this.#observe(this.#id(key), undefined);
      if (seen === undefined || seen.record.owner === null) return undefined;
      const remainingMs = seen.expiresAt - performance.now();
      if (remainingMs <= 0) return undefined;
      return { owner: seen.record.owner, remainingMs, fence: seen.record.fence };
    } catch (error) {
      throw toBackendError(error, this.name, 'inspect', key);
    }
  }

  /**
   * One attempt at `count` permits of the semaphore or read-write lock `key` (core's rules, on
   * the key's semaphore record): one conditional write when this process knows the record's
   * version, a read more otherwise or when the decision writes nothing.
   */
  async semaphoreAcquire(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult> {
    this.#assertOpen();
    this.#usedAsSemaphore(request.key);
    return this.#semaphores.acquire(request);
  }

  /** Renews `owner`'s permits of `key`: one conditional write (a read more on a stale version). */
  async semaphoreExtend(request: ExtendRequest): Promise<SemaphoreOwnerResult> {
    this.#assertOpen();
    return this.#semaphores.extend(request);
  }

  /** Hands back `owner`'s permits of `key`, or its place in line: one conditional write. */
  async semaphoreRelease(request: ReleaseRequest): Promise<SemaphoreOwnerResult> {
    this.#assertOpen();
    return this.#semaphores.release(request);
  }

  /** The live holders and waiters of the semaphore `key`, from a fresh read. */
  async semaphoreInspect(key: string): Promise<BackendSemaphoreInfo | undefined> {
    this.#assertOpen();
    return this.#semaphores.inspect(key);
  }

  /**
   * Notes that `key` is used as a semaphore here, so its waiters also listen to its semaphore
   * record (from now on: waiters already listening get the listener added).
   */
  #usedAsSemaphore(key: string): void {
    if (this.collection.watch === undefined) return;
    this.#semaphoreKeys.delete(key);
    this.#semaphoreKeys.add(key);
    if (this.#semaphoreKeys.size > MAX_SEMAPHORE_KEYS) {
      const oldest = this.#semaphoreKeys.values().next().value;
      if (oldest !== undefined) this.#semaphoreKeys.delete(oldest);
    }
    const listening = this.#listening.get(this.#id(key));
    if (listening !== undefined && listening.stopSemaphore === undefined) {
      this.#listenToSemaphore(key, listening);
    }
  }

  /**
   * Adds a listener on `key`'s semaphore record to `listening`. It wakes the waiters when an
   * owner left the record (permits freed, the line moved), on its first snapshot (which covers
   * any change between the waiter's last try and the listener's start), and when the listener
   * fails; grants, renewals and new waiters wake nobody.
   */
  #listenToSemaphore(key: string, listening: Listening): void {
    const id = this.#semaphores.id(key);
    let owners: Set<string> | undefined;
    let first = true;
    listening.stopSemaphore = (this.collection.watch as NonNullable<LeaseCollection['watch']>)(
      id,
      (record) => {
        this.#semaphores.noteNotified(id, record);
        const now = ownersOf(record?.data);
        const before = owners;
        const wake =
          first ||
          before === undefined ||
          now === undefined ||
          [...before].some((owner) => !now.has(owner));
        first = false;
        owners = now;
        if (wake) for (const subscriber of [...listening.subscribers]) subscriber();
      },
    );
  }

  #watch(key: string, onChange: () => void): Unsubscribe {
    this.#assertOpen();
    const id = this.#id(key);
    let listening = this.#listening.get(id);
    if (listening === undefined) {
      const subscribers = new Set<() => void>();
      const stop = (this.collection.watch as NonNullable<LeaseCollection['watch']>)(
        id,
        (record) => {
          const seen = this.#seen.see(id, record, performance.now());
          // Only a free (or deleted) record wakes waiters: waking every waiter on every write
          // (each acquisition, each renewal) would make them all read again for nothing. An
          // expiring holder wakes them by the time left, which each refusal reports.
          if (seen === undefined || seen.record.owner === null) {
            for (const subscriber of [...subscribers]) subscriber();
          }
        },
      );
      listening = { subscribers, stop };
      this.#listening.set(id, listening);
      if (this.#semaphoreKeys.has(key)) this.#listenToSemaphore(key, listening);
    }
    const entry = () => onChange();
    listening.subscribers.add(entry);
    const current = listening;
    return () => {
      current.subscribers.delete(entry);
      if (current.subscribers.size === 0 && this.#listening.get(id) === current) {
        this.#listening.delete(id);
        current.stop();
        current.stopSemaphore?.();
      }
    };
  }

  /**
   * Stops this backend: store listeners are cancelled and the collection closed (a client the
   * user passed in is left open). Calls after this reject with `LockClosedError`.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const listening of this.#listening.values()) {
      listening.stop();
      listening.stopSemaphore?.();
    }
    this.#listening.clear();
    this.#seen.clear();
    this.#semaphores.clear();
    this.#semaphoreKeys.clear();
    await this.collection.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new LockClosedError(`${this.name} backend`);
  }

  #id(key: string): string {
    return recordId(this.keyPrefix, key, this.collection);
  }

  #call<T>(what: string, request: Promise<T>): Promise<T> {
    return withDeadline(request, this.#timeoutMs, `${this.name} ${what}`);
  }

  /**
   * Notes `record` (one that came with a reply), or reads the record of `id` and notes it. With
   * `sharedSince`, a read of `id` sent at or after that moment is shared rather than sent again,
   * and one sent before it is followed by one more read that all such callers share.
   */
  async #observe(
    id: string,
    record: LeaseRecord | undefined,
    sharedSince?: number,
  ): Promise<Observation | undefined> {
    if (record !== undefined) return this.#seen.see(id, record, performance.now());
    const inFlight = this.#reading.get(id);
    if (sharedSince === undefined || inFlight === undefined) return this.#read(id);
    if (inFlight.sentAt >= sharedSince) return inFlight.reply;
    let next = this.#nextReading.get(id);
    if (next === undefined) {
      const after = () => {
        this.#nextReading.delete(id);
        return this.#read(id);
      };
      next = inFlight.reply.then(after, after);
      this.#nextReading.set(id, next);
    }
    return next;
  }

  /** Sends a read of `id`, notes its answer, and lets later calls share it. */
  #read(id: string): Promise<Observation | undefined> {
    const sentAt = performance.now();
    const reply = this.#call('read', this.collection.get(id)).then((read) =>
      this.#seen.see(id, read, performance.now()),
    );
    const entry = { sentAt, reply };
    this.#reading.set(id, entry);
    const done = () => {
      if (this.#reading.get(id) === entry) this.#reading.delete(id);
    };
    reply.then(done, done);
    return reply;
  }

  /** Notes the record a failed conditional write returned, or reads it when it returned none. */
  async #observeFailure(
    id: string,
    failure: Extract<UpdateResult, { updated: false }>,
  ): Promise<Observation | undefined> {
    if (failure.current === null) return this.#seen.see(id, undefined, performance.now());
    return this.#observe(id, failure.current);
  }
}

/** The fields of `owner`'s renewal of `record` for `ttlMs`. */
function renewal(record: LeaseRecord, owner: string, ttlMs: number, salt: string): LeaseFields {
  return {
    owner,
    leaseMs: ttlMs,
    fence: record.fence,
    writeId: nextWriteId(record.writeId, owner, 'extend', ttlMs, salt),
  };
}

/** A refusal that reports the holder and the most time it can have left. */
function denied(seen: Observation): AcquireResult {
  const holder = seen.record.owner ?? undefined;
  const remainingMs = Math.max(1, seen.expiresAt - performance.now());
  return {
    acquired: false,
    holder,
    remainingMs: Number.isFinite(remainingMs) ? remainingMs : undefined,
  };
}

/** What an owner-checked call reports when `owner` is not the holder of `record`. */
function verdict(record: LeaseRecord | undefined): OwnerCheckedResult {
  return record === undefined || record.owner === null ? 'not-found' : 'forbidden';
}
