import {
  type AcquireRequest,
  identityOf,
  type QueuedAcquireOptions,
  type QueuedGrant,
  raceSignal,
  sleep,
  systemClock,
} from '@lock/core';
import type { ICompare, ITxnRequest, ITxnResponse } from 'etcd3';
import { toBackendError } from './call.js';
import { DeleteFeed } from './delete-feed.js';
import { eitherSignal } from './either-signal.js';
import type { Holding } from './etcd-backend.js';
import type { DeleteListener } from './folder-watches.js';
import type { KeyLayout } from './keys.js';
import {
  absent,
  createdAt,
  entriesBefore,
  getEntry,
  newestIn,
  ownedBy,
  putEntry,
} from './kv-ops.js';
import { type Lease, LeaseGoneError } from './lease.js';
import type { LeasePool } from './lease-pool.js';

/** What a queued wait needs from its backend. */
export interface QueueContext {
  readonly layout: KeyLayout;
  readonly leases: LeasePool;
  /** Aborted when the backend closes. */
  readonly closed: AbortSignal;
  /** Safety re-check while waiting, in case a watch event is lost. */
  readonly pollIntervalMs: number;
  /** How long calls may keep failing, beyond the lease's TTL, before the wait gives up. */
  readonly giveUpAfterMs: number;
  txn(operation: string, request: ITxnRequest, key: string): Promise<ITxnResponse>;
  /**
   * Like {@link txn}, but sent with the acquires and releases of other locks made in the same
   * tick, as one transaction (see `TxnBatcher`): `request` touches only the folder of `key`.
   */
  batchedTxn(operation: string, request: ITxnRequest, key: string): Promise<ITxnResponse>;
  /**
   * Calls `listener` for every entry of `folder` deleted from now on, in revision order;
   * resolves with a canceller once the watch is live.
   */
  listenDeletes(folder: Buffer, listener: DeleteListener): Promise<() => void>;
  /** Whether a watch of `folder`'s deletes is live now, so that listening costs no request. */
  hearingDeletes(folder: Buffer): boolean;
  /** Calls `onDelete` when `entry` is deleted at or after `fromRevision`; returns a canceller. */
  watchDelete(entry: Buffer, fromRevision: string, onDelete: () => void): () => void;
  /** Deletes `entry` (on `lease`) in the background while `guard` holds (see `removal.ts`). */
  removeLater(entry: Buffer, guard: ICompare, key: string, lease: Lease): void;
  /** Records a granted lock, so extend and release find it. */
  adopt(owner: string, holding: Holding): void;
  /** Whether etcd refused a call outright, so that it wrote nothing. */
  refusedOutright(error: unknown): boolean;
  /** Whether etcd refused a call because the lease is gone (expired or revoked). */
  leaseGone(error: unknown): boolean;
}

type Position =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'first' }
  | {
      /** Near the head: every entry ahead is known, and crossed off as its delete is heard. */
      readonly kind: 'behind';
      /** Keys (latin1) of the entries ahead of ours, as of revision `readAt`. */
      readonly ahead: Set<string>;
      readonly readAt: bigint;
    }
  | {
      /** Far from the head: more are ahead than a waiter tracks. */
      readonly kind: 'far';
      /** The oldest of the nearest tracked entries: once it goes, read again. */
      readonly oldest: Buffer;
      readonly readAt: bigint;
    }
  | { readonly kind: 'gone' };

/**
 * How many entries ahead a waiter tracks itself, hearing every delete in the folder. A waiter
 * with more ahead does not listen to the folder: it watches one entry, the oldest of the nearest
 * this many, and reads again when that one goes. So each delete reaches at most about this many
 * waiting processes, however long the line, and a long line costs no long reads.
 */
const TRACKED_AHEAD = 64;

const MIN_RETRY_MS = 50;
const MAX_RETRY_MS = 1_000;

/**
 * Waits for `key` in etcd's fair queue, after Go's `concurrency.Mutex.Lock`:
 *
 * 1. One transaction writes this owner's entry (under the owner's lease) and reads the entries
 *    ahead of it (up to 64 of them); with none ahead the lock is granted at once, valid a full
 *    TTL from the call (the lease renewed alongside when needed, as a plain acquire does), so
 *    core's `lock()` on a key contended here a moment ago queues at once (`queuesAtOnce`). It hears the
 *    deletes in the lock's folder through one watch per lock, shared by this backend's waiters
 *    and started at the current revision: joined before the transaction when it is live
 *    already (a process taking turns on a busy lock), else made after it when entries are
 *    ahead, followed by a read again, so no delete after the last read goes unheard.
 * 2. Otherwise, with at most 64 ahead, it crosses off each entry ahead as its delete is heard
 *    (released, expired, or its waiter gave up) and takes the lock on the last one, with no
 *    read after it: no entry can be created ahead of an existing one. With more than 64 ahead
 *    it stops listening to the folder, watches only the oldest of its 64 nearest (from the
 *    revision it read, so a delete in between is replayed), and on its delete listens again
 *    and reads again. It also reads again every `pollIntervalMs`, in case a watch fails. A
 *    waiter thus proceeds only when every older entry is gone: FIFO, in create-revision order,
 *    and a delete reaches at most about 64 waiting processes however long the line.
 * 3. While it waits, the owner's lease is renewed in the background, so the entry keeps its place.
 *
 * **`sentAt` of the grant.** Core counts the lock's validity from `sentAt`. The entry lives as
 * long as its lease, and the lease only as long as renewals reach etcd, so the time the entry
 * was created says nothing about a grant that came after a long wait (reporting it would make
 * every wait longer than the TTL end in an instantly expired lock). What bounds the lock is the
 * lease: etcd keeps it at least a full TTL after it received the last confirmed renewal, so
 * `sentAt` is when that renewal was *sent*, in core's clock (translated from
 * `performance.now()`, exact with core's `systemClock`). The background renewal every third of
 * the TTL usually leaves more than half a TTL; when it does not, the grant first waits for a
 * fresh renewal (shared with other waiters of the lease). The entry's existence is confirmed by
 * the last read or by the watch (which would have reported its delete); a delete after that is a
 * loss like any other, reported by the next keepalive.
 *
 * On abort (caller's signal or backend closed) the entry is deleted, so the queue moves on.
 * An enqueue etcd refused rejects at once; one whose reply was lost is sent again (it cannot
 * queue twice) for up to `giveUpAfterMs`, so a blip of the connection keeps the place (see
 * {@link enqueue}); once queued, failed calls (a leader election, a member down) are retried
 * with backoff for as long as the lease may still live.
 */
export async function waitInQueue(
  context: QueueContext,
  request: AcquireRequest,
  { signal, now }: QueuedAcquireOptions,
): Promise<QueuedGrant> {
  const [stop, dispose] = eitherSignal(signal, context.closed);
  try {
    return await wait(context, request, now, stop);
  } finally {
    dispose();
  }
}

async function wait(
  context: QueueContext,
  { key, owner, ttlMs }: AcquireRequest,
  now: () => number,
  stop: AbortSignal,
): Promise<QueuedGrant> {
  if (stop.aborted) throw stop.reason;
  const folder = context.layout.folder(key);
  const deletes = new DeleteFeed(
    (where, listener) => context.listenDeletes(where, listener),
    folder,
    stop,
  );
  // A live watch of the folder (another waiter's here, or one kept after a recent wait) is
  // joined before the enqueue at no cost, so every delete after the enqueue's read is heard.
  // Without one the lock is likely free: the enqueue goes first and takes it in one round trip
  // when nobody is ahead; a waiter that finds entries ahead listens, then reads again.
  if (context.hearingDeletes(folder)) await deletes.listen();
  try {
    return await waitWithFeed(context, key, owner, ttlMs, now, stop, folder, deletes);
  } finally {
    deletes.unlisten();
  }
}

async function waitWithFeed(
  context: QueueContext,
  key: string,
  owner: string,
  ttlMs: number,
  now: () => number,
  stop: AbortSignal,
  folder: Buffer,
  deletes: DeleteFeed,
): Promise<QueuedGrant> {
  for (let round = 0; ; round++) {
    const leasing = context.leases.lease(identityOf(owner), ttlMs);
    const lease = await raceSignal(leasing, stop).catch((error: unknown) => {
      if (!stop.aborted) throw toBackendError('lease grant', error, key);
      // Hand back the use the pool takes for us once the grant we gave up on arrives.
      leasing.then(
        (late) => context.leases.release(late),
        () => {},
      );
      throw stop.reason;
    });
    const entry = context.layout.entry(key, lease.id, owner);
    lease.addWaiter();
    let revision: string | undefined;
    let granted = false;
    try {
      let coreAt = now();
      let checkAt = performance.now();
      // Likely free (nobody here waits for it): renew alongside the enqueue when the lease's last
      // renewal does not cover a full TTL from now, as a plain acquire does, so that a grant
      // with nobody ahead is valid a full TTL from now (a no-op within the lease's headroom).
      const renewal = deletes.live ? undefined : lease.ensureValidUntil(checkAt + ttlMs);
      renewal?.catch(() => {});
      let reply: ITxnResponse;
      try {
        reply = await enqueue(context, key, entry, owner, lease, folder, stop);
      } catch (error) {
        if (stop.aborted) throw stop.reason;
        removeUnknown(context, entry, owner, key, lease, error);
        if (context.leaseGone(error) && round < 2) {
          // Nothing was written: queue again on a fresh lease.
          lease.kill();
          continue;
        }
        if (round > 0) {
          // Re-queueing after our entry vanished: keep trying while the cluster recovers.
          await sleep(systemClock, MIN_RETRY_MS * 4, stop);
          continue;
        }
        throw error;
      }
      let position: Position;
      if (reply.succeeded) {
        revision = reply.header.revision;
        // Ours is the newest entry; the rest of the read are the waiters just ahead of it.
        const range = reply.responses[1]?.response_range;
        const ahead = (range?.kvs ?? []).filter((kv) => kv.create_revision !== revision);
        position = behind(ahead, range?.more ?? false, revision);
      } else {
        revision = reply.responses[0]?.response_range?.kvs[0]?.create_revision;
        position = revision === undefined ? { kind: 'gone' } : { kind: 'unknown' };
      }
      // Not listening yet (see above): listen, then read again, so no delete goes unheard.
      if (position.kind === 'behind' && !deletes.live) position = { kind: 'unknown' };
      // Granted by the enqueue itself, with the lease renewed alongside it when needed.
      let grantedAtOnce = position.kind === 'first' ? renewal : undefined;
      let woken = false;
      let failingSince: number | undefined;
      let retryMs = MIN_RETRY_MS;
      const failed = async (error: unknown): Promise<void> => {
        if (stop.aborted) throw stop.reason;
        failingSince ??= performance.now();
        if (performance.now() - failingSince > lease.grantedMs + context.giveUpAfterMs) {
          throw toBackendError('queued acquire', error, key);
        }
        await sleep(systemClock, retryMs, stop);
        retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
      };
      for (;;) {
        if (position.kind === 'gone' || revision === undefined) break;
        if (position.kind === 'behind') {
          const outcome = await waitForTurn(context, deletes, entry, position, stop);
          woken = outcome !== 'timeout';
          if (outcome === 'first') {
            // The watch saw every entry ahead of ours deleted, and not ours: no read needed.
            coreAt = now();
            checkAt = performance.now();
          }
          position =
            outcome === 'first'
              ? { kind: 'first' }
              : outcome === 'gone'
                ? { kind: 'gone' }
                : { kind: 'unknown' };
          continue;
        }
        if (position.kind === 'far') {
          deletes.unlisten();
          woken = await waitForDelete(context, position, stop);
          position = { kind: 'unknown' };
          continue;
        }
        if (position.kind === 'unknown') {
          await deletes.listen(); // before the read, in case it finds us near the head
          coreAt = now();
          checkAt = performance.now();
          // Woken by a delete: likely our turn, so renew (if needed) alongside the check.
          if (woken) renewedSince(lease, checkAt - ttlMs / 2).catch(() => {});
          try {
            const check = await raceSignal(
              context.txn(
                'queue check',
                {
                  compare: [createdAt(entry, revision)],
                  success: [entriesBefore(folder, revision, TRACKED_AHEAD)],
                },
                key,
              ),
              stop,
            );
            failingSince = undefined;
            retryMs = MIN_RETRY_MS;
            const range = check.responses[0]?.response_range;
            position = !check.succeeded
              ? { kind: 'gone' }
              : behind(range?.kvs ?? [], range?.more ?? false, check.header.revision);
            if (position.kind === 'far') deletes.unlisten();
          } catch (error) {
            await failed(error);
          }
          continue;
        }
        // First in line: the lock is ours, valid from the send time of the lease's last renewal,
        // or a full TTL from the enqueue when that granted it (see `renewal`).
        const atOnce = grantedAtOnce;
        grantedAtOnce = undefined; // only for the first pass, right after the enqueue
        try {
          await raceSignal(atOnce ?? renewedSince(lease, checkAt - ttlMs / 2), stop);
        } catch (error) {
          if (error instanceof LeaseGoneError) {
            position = { kind: 'gone' };
          } else {
            await failed(error);
            position = { kind: 'unknown' };
          }
          continue;
        }
        context.adopt(owner, { key, entry, revision, lease });
        granted = true;
        const sentAt = atOnce
          ? coreAt
          : coreAt + (Math.min(lease.confirmedAt, performance.now()) - checkAt);
        return { acquired: true, fence: Number(revision), sentAt, ttlMs: lease.grantedMs };
      }
      // Our entry vanished (its lease expired during an outage, or it was deleted): queue again.
      revision = undefined;
    } finally {
      lease.removeWaiter();
      // A granted lock keeps this round's use of the lease; otherwise it is handed back (and
      // the lease revoked if nothing uses it and a newer one replaced it).
      if (!granted) context.leases.release(lease);
      if (!granted && revision !== undefined) {
        context.removeLater(entry, createdAt(entry, revision), key, lease);
      }
    }
  }
}

/**
 * Writes `entry` at the end of `key`'s line and reads the entries just ahead of it, in one
 * transaction batched with other locks' calls of the same tick (as acquires are).
 *
 * A failure etcd did not refuse outright leaves the outcome unknown: the entry may have landed
 * with its reply lost (a connection reset under it). The same transaction is then sent again,
 * with backoff, for up to `giveUpAfterMs` from the first failure: it writes the entry only if
 * absent and otherwise reads it, so a landed attempt is found, never doubled, and a blip of the
 * connection costs the waiter neither its place nor its `lock()`. A backend still unreachable
 * after that rejects with the last failure (the caller takes back what may have landed). On
 * abort, whatever lands late is taken back.
 */
async function enqueue(
  context: QueueContext,
  key: string,
  entry: Buffer,
  owner: string,
  lease: Lease,
  folder: Buffer,
  stop: AbortSignal,
): Promise<ITxnResponse> {
  const request: ITxnRequest = {
    compare: [absent(entry)],
    success: [putEntry(entry, owner, lease.id), newestIn(folder, TRACKED_AHEAD + 1)],
    failure: [getEntry(entry)],
  };
  let failingSince: number | undefined;
  let retryMs = MIN_RETRY_MS;
  for (;;) {
    const pending = context.batchedTxn('enqueue', request, key);
    try {
      return await raceSignal(pending, stop);
    } catch (error) {
      if (stop.aborted) {
        // The write may still land: take it back when it does.
        pending.then(
          (late) => {
            const guard = late.succeeded
              ? createdAt(entry, late.header.revision)
              : ownedBy(entry, owner); // an earlier attempt of it, which landed
            context.removeLater(entry, guard, key, lease);
          },
          (late: unknown) => removeUnknown(context, entry, owner, key, lease, late),
        );
        throw stop.reason;
      }
      if (context.refusedOutright(error)) throw error;
      failingSince ??= performance.now();
      if (performance.now() - failingSince + retryMs > context.giveUpAfterMs) throw error;
      try {
        await sleep(systemClock, retryMs, stop);
      } catch (aborted) {
        removeUnknown(context, entry, owner, key, lease, error);
        throw aborted;
      }
      retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
    }
  }
}

/**
 * An enqueue failed: unless etcd refused it outright, it may have landed (no reply is not no
 * write) and may still land later, after any clean-up looked: take the entry back if it is
 * there, and poison the lease (see `LeasePool.poison`), so that a late entry goes with it.
 */
function removeUnknown(
  context: QueueContext,
  entry: Buffer,
  owner: string,
  key: string,
  lease: Lease,
  error: unknown,
): void {
  if (context.refusedOutright(error)) return;
  context.removeLater(entry, ownedBy(entry, owner), key, lease);
  context.leases.poison(lease);
}

/**
 * Resolves once etcd has confirmed a renewal of `lease` sent at or after `since`. A grant is
 * valid for core from that renewal's send time plus the TTL asked for (which may be shorter than
 * the lease's whole seconds), so requiring `since = check − ttl/2` leaves at least half a TTL.
 */
function renewedSince(lease: Lease, since: number): Promise<void> {
  return lease.ensureValidUntil(since + lease.grantedMs);
}

/**
 * The position of a waiter with `ahead` before it (newest first), read at `readAt`; `more` says
 * whether older ones exist beyond them.
 */
function behind(
  ahead: readonly { readonly key: Buffer }[],
  more: boolean,
  readAt: string,
): Position {
  const oldest = ahead[ahead.length - 1];
  if (oldest === undefined) return more ? { kind: 'unknown' } : { kind: 'first' };
  if (more) return { kind: 'far', oldest: oldest.key, readAt: BigInt(readAt) };
  return {
    kind: 'behind',
    ahead: new Set(ahead.map((kv) => kv.key.toString('latin1'))),
    readAt: BigInt(readAt),
  };
}

/**
 * Sleeps the poll interval with ±20 % jitter (so a thousand waiters do not re-check in step);
 * `onWake` receives a function that ends the sleep early.
 */
function pollSleep(
  context: QueueContext,
  stop: AbortSignal,
  onWake: (resume: () => void) => void,
): Promise<void> {
  const jitter = 0.8 + Math.random() * 0.4;
  return sleep(systemClock, context.pollIntervalMs * jitter, stop, onWake);
}

/**
 * Resolves true when `position.oldest` is deleted, false after the poll interval (±20 %
 * jitter, so a thousand waiters do not re-check in step). The watch starts just after the read,
 * so a delete in between is replayed.
 */
async function waitForDelete(
  context: QueueContext,
  position: Extract<Position, { kind: 'far' }>,
  stop: AbortSignal,
): Promise<boolean> {
  let wake: (() => void) | undefined;
  let deleted = false;
  const cancel = context.watchDelete(position.oldest, (position.readAt + 1n).toString(), () => {
    deleted = true;
    wake?.();
  });
  try {
    if (!deleted) {
      await pollSleep(context, stop, (resume) => {
        wake = resume;
      });
    }
    return deleted;
  } finally {
    cancel();
  }
}

/**
 * Follows the folder's deletes after the read that listed the entries ahead, and resolves:
 * - `first` when all of them are deleted (released, expired, or their waiters gave up) and
 *   none older can exist (no entry is ever created before an existing one, and the read was
 *   complete), so the lock is ours without another read;
 * - `gone` when our own entry was deleted first;
 * - `timeout` after the poll interval (±20 % jitter, so a thousand waiters do not re-check in
 *   step), in case the watch failed or is missing; at once when etcd ended the watch.
 *
 * A waiter near the head hears every delete in the folder (waiters far back do not listen: see
 * {@link TRACKED_AHEAD}); in exchange a handover is the release's commit and its watch event,
 * without a read after it. Deletes at or before the read's revision are already reflected in it.
 */
async function waitForTurn(
  context: QueueContext,
  deletes: DeleteFeed,
  entry: Buffer,
  position: Extract<Position, { kind: 'behind' }>,
  stop: AbortSignal,
): Promise<'first' | 'gone' | 'timeout'> {
  const ours = entry.toString('latin1');
  // Every delete heard from now on is newer than any later read, so each is looked at once.
  const judge = (): 'first' | 'gone' | undefined => {
    const events = deletes.events;
    deletes.events = [];
    for (const { entry: deleted, revision } of events) {
      if (revision <= position.readAt) continue;
      if (deleted === ours) return 'gone';
      if (position.ahead.delete(deleted) && position.ahead.size === 0) return 'first';
    }
    return undefined;
  };
  let outcome = deletes.live ? judge() : undefined;
  if (outcome !== undefined) return outcome;
  if (deletes.ended) return 'timeout'; // listen again (a new watch), then read again
  try {
    await pollSleep(context, stop, (resume) => {
      deletes.onEvent = () => {
        outcome = judge();
        if (outcome !== undefined || deletes.ended) resume();
      };
    });
    return outcome ?? 'timeout';
  } finally {
    deletes.onEvent = undefined;
  }
}
