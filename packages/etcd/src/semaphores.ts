import {
  type BackendSemaphoreInfo,
  identityOf,
  type ReleaseRequest,
  type SemaphoreAcquireRequest,
  type SemaphoreAcquireResult,
  type SemaphoreDenied,
  type SemaphoreOwnerResult,
} from '@lock/core';
import type { ICompare, ITxnRequest } from 'etcd3';
import type { TxnReply } from './attempts.js';
import { toBackendError } from './call.js';
import type { Holding } from './etcd-backend.js';
import type { SemaphoreLayout } from './keys.js';
import { allIn, createdAt, deleteEntry } from './kv-ops.js';
import { type Lease, LeaseGoneError } from './lease.js';
import type { LeasePool } from './lease-pool.js';
import {
  configOf,
  configValue,
  type EntryWrite,
  entryValue,
  firstAttempt,
  guardedAttempt,
  holdersIn,
  kindOfMode,
  type LineEntry,
  lineOf,
  parseLine,
  placeCheck,
  valueIs,
} from './semaphore-ops.js';

/** What the semaphores need from their backend. */
export interface SemaphoreContext {
  readonly layout: SemaphoreLayout;
  readonly leases: LeasePool;
  /** One transaction through the backend's batcher (one semaphore per batch: see `TxnBatcher`). */
  batch(request: ITxnRequest, folder: Buffer, operation: string, key: string): Promise<TxnReply>;
  /** One transaction on its own (reads: no need to wait for a batch of the same key). */
  txn(operation: string, request: ITxnRequest, key: string): Promise<TxnReply>;
  /** Deletes `entry` (on `lease`) in the background while `guard` holds (see `removal.ts`). */
  removeLater(entry: Buffer, guard: ICompare, key: string, lease: Lease): void;
  /** Records a granted holding, so that extend and release find it (its lease use moves with it). */
  adopt(owner: string, holding: Holding): void;
  /** The holding this backend recorded for `owner`, if any. */
  heldBy(owner: string): Holding | undefined;
  /** Forgets `owner`'s holding and gives back its lease use. */
  forget(owner: string): void;
  /** Remaining TTL of lease `id`, in ms, if etcd can tell. */
  remainingOf(leaseId: string): Promise<number | undefined>;
  /** Whether etcd refused a call outright (so it wrote nothing). */
  refusedOutright(error: unknown): boolean;
  /** Whether etcd said a lease does not exist. */
  isLeaseGone(error: unknown): boolean;
}

/** A place in a semaphore's line that this backend wrote and whose owner is still waiting. */
interface Place {
  readonly key: string;
  readonly entry: Buffer;
  readonly value: Buffer;
  readonly revision: string;
  readonly lease: Lease;
  readonly count: number;
  readonly permits: number;
}

/** Attempts of one acquire before it reports a denial (each lost a race with another writer). */
const MAX_ROUNDS = 8;

/**
 * Semaphores and read-write locks natively on etcd, after its recipes: a line of entries under
 * the semaphore's folder ordered by create revision, each attached to its owner's lease (see
 * `semaphore-ops.ts` for how the rules map onto it). Expiry is etcd's lease expiry, judged by
 * etcd's clock: a crashed holder's entry goes when its lease runs out, and the delete wakes the
 * waiters. Core does the waiting (it retries on the watch of the folder); a waiter's retry reads
 * only the entries ahead of its own, and renews its lease when needed, which keeps its place.
 */
export class EtcdSemaphores {
  readonly #context: SemaphoreContext;
  /** Owners of this backend waiting in a line, by owner token. */
  readonly #places = new Map<string, Place>();

  constructor(context: SemaphoreContext) {
    this.#context = context;
  }

  /** One attempt (see `LockBackend.semaphoreAcquire`): one round trip unless it lost a race. */
  async acquire(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult> {
    const started = performance.now();
    const place = this.#places.get(request.owner);
    if (place !== undefined && place.key === request.key) {
      const outcome = await this.#checkPlace(place, request, started);
      if (outcome !== 'gone') return outcome;
      // Our place is gone (its lease ran out, or it was deleted): join again as a newcomer.
    }
    const held = this.#context.heldBy(request.owner);
    if (held?.semaphore !== undefined && held.key === request.key) {
      return this.#holdsAgain(held, request, started);
    }
    for (let attempt = 1; ; attempt++) {
      const leases = this.#context.leases;
      const lease = await leases.lease(identityOf(request.owner), request.ttlMs).catch((error) => {
        throw toBackendError('lease grant', error, request.key);
      });
      let outcome: SemaphoreAcquireResult | 'retry';
      try {
        outcome = await this.#join(lease, request, started, attempt);
      } catch (error) {
        leases.release(lease);
        throw error;
      }
      if (outcome !== 'retry') return outcome;
      leases.release(lease);
    }
  }

  /**
   * A newcomer's attempt on `lease` (whose use it holds; the use stays with an entry it wrote,
   * and is given back otherwise).
   */
  async #join(
    lease: Lease,
    request: SemaphoreAcquireRequest,
    started: number,
    attempt: number,
  ): Promise<SemaphoreAcquireResult | 'retry'> {
    const { key, owner, mode, count, permits, wait } = request;
    const layout = this.#context.layout;
    const write: EntryWrite = {
      folder: layout.folder(key),
      config: layout.config(key),
      configValue: configValue(mode, permits),
      entry: layout.entry(key, lease.id, owner),
      value: entryValue(owner, count, mode, permits),
      lease: lease.id,
    };
    // As for locks: the entry lives as long as its lease, so make sure etcd keeps the lease a
    // full TTL from before this call (a no-op within the lease's headroom).
    const renewal = lease.ensureValidUntil(started + request.ttlMs);
    renewal.catch(() => {});
    let txn = firstAttempt(write, wait);
    let line: LineEntry[] = [];
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      let reply: TxnReply;
      try {
        reply = await this.#context.batch(txn, write.folder, 'semaphore acquire', key);
      } catch (error) {
        if (attempt < 2 && this.#context.isLeaseGone(error)) {
          lease.kill();
          return 'retry';
        }
        if (!this.#context.refusedOutright(error)) {
          // No reply is not no write: take the entry back if it landed, and poison the lease
          // so that an entry landing even later goes with it (see LeasePool.poison).
          this.#context.removeLater(write.entry, valueIs(write.entry, write.value), key, lease);
          this.#context.leases.poison(lease);
        }
        throw error;
      }
      line = lineOf(reply);
      const index = line.findIndex((entry) => entry.key.equals(write.entry));
      if (index >= 0) return this.#placed(write, line, index, lease, request, renewal, attempt);
      const current = configOf(line);
      if (
        current !== undefined &&
        (current.kind !== kindOfMode(mode) || current.permits !== permits)
      ) {
        this.#context.leases.release(lease);
        return { acquired: false, mismatch: current };
      }
      let used = 0;
      for (const entry of line) used += entry.count;
      if (!wait && used + count > permits) {
        this.#context.leases.release(lease);
        return denial(line, holdersIn(line, permits), line.length, permits);
      }
      // Room for a try, or a wait whose config key did not match its entries (it was deleted
      // by hand): write if nobody joined since this read.
      txn = guardedAttempt(write, reply.header.revision);
    }
    // Lost the race every round: report a denial (core retries a wait at once).
    this.#context.leases.release(lease);
    return { ...denial(line, holdersIn(line, permits), line.length, permits), retryAfterMs: 0 };
  }

  /** Our entry is at `index` of `line`: a grant if it holds, else a place in line. */
  async #placed(
    write: EntryWrite,
    line: readonly LineEntry[],
    index: number,
    lease: Lease,
    request: SemaphoreAcquireRequest,
    renewal: Promise<void>,
    attempt: number,
  ): Promise<SemaphoreAcquireResult | 'retry'> {
    const own = line[index] as LineEntry;
    const holders = holdersIn(line, request.permits);
    if (index < holders) {
      try {
        await renewal;
      } catch (error) {
        // Written, but its lease cannot be vouched for: take it back rather than hand out
        // permits that may already be gone.
        await this.#delete(write.entry, own.revision, request.key).catch(() => {
          this.#context.removeLater(
            write.entry,
            createdAt(write.entry, own.revision),
            request.key,
            lease,
          );
        });
        if (attempt < 2 && error instanceof LeaseGoneError) return 'retry';
        throw toBackendError('lease keepalive', error, request.key);
      }
      this.#adopt(request, write, own.revision, lease);
      return { acquired: true, fence: Number(own.revision), ttlMs: lease.grantedMs };
    }
    if (!request.wait) {
      // Cannot happen (a try writes only where it fits), but never leave a try in line.
      this.#context.removeLater(
        write.entry,
        createdAt(write.entry, own.revision),
        request.key,
        lease,
      );
      this.#context.leases.release(lease);
      return denial(line, holders, index, request.permits);
    }
    this.#places.set(request.owner, {
      key: request.key,
      entry: write.entry,
      value: write.value,
      revision: own.revision,
      lease,
      count: request.count,
      permits: request.permits,
    });
    return denial(line, holders, index, request.permits);
  }

  /**
   * A waiter's retry: reads the entries ahead of its place (if the place is still there) and
   * renews the place's lease alongside when needed. Granted when they leave room for it.
   */
  async #checkPlace(
    place: Place,
    request: SemaphoreAcquireRequest,
    started: number,
  ): Promise<SemaphoreAcquireResult | 'gone'> {
    const renewal = place.lease.ensureValidUntil(started + request.ttlMs);
    renewal.catch(() => {});
    const folder = this.#context.layout.folder(place.key);
    const reply = await this.#context.txn(
      'semaphore place check',
      placeCheck(folder, place.entry, place.revision),
      place.key,
    );
    if (!reply.succeeded) {
      this.#leave(request.owner);
      return 'gone';
    }
    const ahead = parseLine(reply.responses[0]?.response_range?.kvs ?? []);
    let used = 0;
    for (const entry of ahead) used += entry.count;
    if (used + place.count > place.permits) {
      return denial(ahead, holdersIn(ahead, place.permits), ahead.length, place.permits);
    }
    try {
      await renewal;
    } catch (error) {
      if (error instanceof LeaseGoneError) {
        this.#leave(request.owner);
        return 'gone';
      }
      throw toBackendError('lease keepalive', error, request.key);
    }
    this.#places.delete(request.owner);
    this.#context.adopt(request.owner, {
      key: place.key,
      entry: place.entry,
      revision: place.revision,
      lease: place.lease,
      semaphore: { folder, value: place.value },
    });
    return { acquired: true, fence: Number(place.revision), ttlMs: place.lease.grantedMs };
  }

  /** Rule 3: an owner that holds already gets its own fence again, its lease renewed. */
  async #holdsAgain(
    held: Holding,
    request: SemaphoreAcquireRequest,
    started: number,
  ): Promise<SemaphoreAcquireResult> {
    const renewal = held.lease.ensureValidUntil(started + request.ttlMs);
    renewal.catch(() => {});
    const folder = this.#context.layout.folder(held.key);
    const reply = await this.#context.txn(
      'semaphore acquire',
      placeCheck(folder, held.entry, held.revision),
      held.key,
    );
    if (!reply.succeeded) {
      this.#context.forget(request.owner);
      return this.acquire(request);
    }
    await renewal.catch((error: unknown) => {
      throw toBackendError('lease keepalive', error, request.key);
    });
    return { acquired: true, fence: Number(held.revision), ttlMs: held.lease.grantedMs };
  }

  #adopt(request: SemaphoreAcquireRequest, write: EntryWrite, revision: string, lease: Lease) {
    this.#context.adopt(request.owner, {
      key: request.key,
      entry: write.entry,
      revision,
      lease,
      semaphore: { folder: write.folder, value: write.value },
    });
  }

  /** Forgets `owner`'s place and gives back its lease use. */
  #leave(owner: string): void {
    const place = this.#places.get(owner);
    if (place === undefined) return;
    this.#places.delete(owner);
    this.#context.leases.release(place.lease);
  }

  /**
   * Removes `owner`'s entry (holding or place): `ok` if it held permits. An owner this backend
   * does not know (another process's, or a give-up after a lost reply) is looked up by value.
   */
  async release({ key, owner }: ReleaseRequest): Promise<SemaphoreOwnerResult> {
    const place = this.#places.get(owner);
    const held = this.#context.heldBy(owner);
    const mine =
      place?.key === key
        ? place
        : held?.semaphore !== undefined && held.key === key
          ? held
          : undefined;
    if (mine !== undefined) {
      const folder = this.#context.layout.folder(key);
      let reply: TxnReply;
      try {
        reply = await this.#context.batch(
          {
            compare: [createdAt(mine.entry, mine.revision)],
            success: [deleteEntry(mine.entry)],
          },
          folder,
          'semaphore release',
          key,
        );
      } catch (error) {
        // The entry may still be there, kept alive by the lease's other users: keep trying.
        this.#context.removeLater(
          mine.entry,
          createdAt(mine.entry, mine.revision),
          key,
          mine.lease,
        );
        throw error;
      } finally {
        // Only now: forgetting may revoke the lease, which must not race the delete above.
        if (mine === place) this.#leave(owner);
        else this.#context.forget(owner);
      }
      // A place in line is not a holding. If the driver sent the delete twice, the first
      // attempt may have removed the entry and this answer is the retry's.
      if (mine === place) return 'not-found';
      return reply.succeeded || reply.attempts > 1 ? 'ok' : 'not-found';
    }
    const line = await this.#line(key, 'semaphore release');
    const index = line.findIndex((entry) => entry.owner === owner);
    const own = line[index];
    if (own === undefined) return 'not-found';
    const deleted = await this.#delete(own.key, own.revision, key);
    const permits = (configOf(line) as { permits: number }).permits;
    return deleted && index < holdersIn(line, permits) ? 'ok' : 'not-found';
  }

  /**
   * Renews nothing itself: for a holding the keepalive tick did not find on its lease, says
   * whether `owner` still holds permits of `key` and on which lease (`undefined` if not).
   */
  async holdingLease(key: string, owner: string): Promise<string | undefined> {
    const line = await this.#line(key, 'semaphore extend');
    const index = line.findIndex((entry) => entry.owner === owner);
    const own = line[index];
    if (own === undefined || index >= holdersIn(line, own.permits)) return undefined;
    return own.lease;
  }

  /** The live holders and waiters of `key`, or `undefined` when it has none. */
  async inspect(key: string): Promise<BackendSemaphoreInfo | undefined> {
    const line = await this.#line(key, 'semaphore inspect');
    const config = configOf(line);
    if (config === undefined) return undefined;
    const count = holdersIn(line, config.permits);
    const holders = line.slice(0, count);
    let inUse = 0;
    let fence = 0;
    for (const holder of holders) {
      inUse += holder.count;
      fence = Math.max(fence, Number(holder.revision));
    }
    return {
      kind: config.kind,
      permits: config.permits,
      inUse,
      waiting: line.length - count,
      fence,
      holders: await Promise.all(
        holders.map(async (holder) => ({
          owner: holder.owner,
          count: holder.count,
          mode: holder.mode,
          fence: Number(holder.revision),
          remainingMs: await this.#context.remainingOf(holder.lease),
        })),
      ),
    };
  }

  /** Forgets every place (the backend is closing and revokes its leases). */
  clear(): void {
    this.#places.clear();
  }

  async #line(key: string, operation: string): Promise<LineEntry[]> {
    const folder = this.#context.layout.folder(key);
    const reply = await this.#context.txn(operation, { success: [allIn(folder)] }, key);
    return parseLine(reply.responses[0]?.response_range?.kvs ?? []);
  }

  /** Deletes `entry` if it is the one created at `revision`; true if it was (or may have been). */
  async #delete(entry: Buffer, revision: string, key: string): Promise<boolean> {
    const reply = await this.#context.txn(
      'semaphore delete',
      { compare: [createdAt(entry, revision)], success: [deleteEntry(entry)] },
      key,
    );
    return reply.succeeded || reply.attempts > 1;
  }
}

/** A denial of a request with `ahead` entries before it in `line` (of which `holders` hold). */
function denial(
  line: readonly LineEntry[],
  holders: number,
  ahead: number,
  permits: number,
): SemaphoreDenied {
  let inUse = 0;
  for (const holder of line.slice(0, holders)) inUse += holder.count;
  return {
    acquired: false,
    inUse: Math.min(inUse, permits),
    holders,
    ahead: Math.max(0, ahead - holders),
    retryAfterMs: undefined,
  };
}
