import {
  type AcquireRequest,
  type QueuedAcquireOptions,
  type QueuedGrant,
  sleep,
  systemClock,
} from '@lock/core';
import type { RedisConnection } from './connection.js';
import { lockKeys } from './keys.js';
import { toAcquireResult } from './replies.js';
import { ACQUIRE_FAIR, LEAVE_QUEUE } from './scripts.js';

/** What a queued wait needs from its backend. */
export interface FairQueueContext {
  readonly connection: RedisConnection;
  readonly prefix: string;
  readonly pollIntervalMs: number;
  readonly entryTtlMs: number;
  /** Subscribes to a channel; resolves once active, to the unsubscribe function. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => void>;
}

/**
 * Waits in the key's FIFO queue in Redis until this waiter is first in line and the lock is
 * free, then takes it.
 *
 * How it works: each *claim* (one script, one round trip) joins the queue on first call (a
 * ticket from a counter), refreshes this waiter's expiry, drops dead waiters at the head, and
 * takes the lock if it is free and this waiter is first. A release deletes the lock and
 * publishes the ticket of the first live waiter; that waiter, woken over pub/sub (or by its
 * safety poll, or when the holder's TTL runs out), claims. Nobody else can take a free lock
 * while someone live is queued, so the lock goes in line order.
 *
 * Why the grant is made by the waiter's own claim and not by the release: core counts a lock's
 * validity from a time it knows is *before* the server set the TTL. The claim's send time is
 * such a time. The enqueue time is before too, but a grant handed over by someone else's
 * release could come arbitrarily later, so validity counted from the enqueue time would be
 * short or already over; and the grant time itself is not known to the waiter. One extra
 * round trip per handoff buys a sound validity window.
 */
export async function waitInQueue(
  context: FairQueueContext,
  request: AcquireRequest,
  options: QueuedAcquireOptions,
): Promise<QueuedGrant> {
  const { connection } = context;
  const { signal, now } = options;
  if (signal.aborted) throw signal.reason;
  const keys = lockKeys(context.prefix, request.key);
  const ttl = String(Math.ceil(request.ttlMs));
  let ticket: string | undefined;
  let woken = false;
  // Messages since the current claim was sent: one naming our ticket may arrive before the
  // claim's reply tells us the ticket (pub/sub runs on another connection).
  const heard = new Set<string>();
  let wake: (() => void) | undefined;
  const unsubscribe = await context.subscribe(keys.channel, (message) => {
    heard.add(message);
    if (message === 'free' || message === ticket) {
      woken = true;
      wake?.();
    }
  });
  let joined = false;
  const leave = () => {
    if (!joined) return;
    connection
      .eval(
        LEAVE_QUEUE,
        [keys.queue, keys.queueExpiry, keys.lock],
        [request.owner, keys.channel],
        'leave queue',
        request.key,
        true,
      )
      .catch(() => {
        // Closed or unreachable: nothing to do, the place expires by itself (queueEntryTtl).
      });
  };
  signal.addEventListener('abort', leave, { once: true });
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      woken = false;
      heard.clear();
      const sentAt = now();
      joined = true;
      const reply = await connection.eval(
        ACQUIRE_FAIR,
        [keys.lock, keys.fence, keys.queue, keys.queueExpiry, keys.queueTicket],
        [request.owner, ttl, 'claim', String(context.entryTtlMs)],
        'acquire',
        request.key,
      );
      const result = toAcquireResult(reply);
      if (result.acquired) return { acquired: true, fence: result.fence, sentAt };
      ticket = result.ticket;
      if (heard.has('free') || (ticket !== undefined && heard.has(ticket))) woken = true;
      let delay = context.pollIntervalMs;
      if (result.remainingMs !== undefined) delay = Math.min(delay, result.remainingMs + 1);
      if (!woken) {
        await sleep(systemClock, delay, signal, (resume) => {
          wake = resume;
        });
      }
      wake = undefined;
    }
  } catch (error) {
    // Left the loop without the lock for another reason than an abort (a failed claim): give
    // the place up, so those behind are not held up until it expires.
    if (!signal.aborted) leave();
    throw error;
  } finally {
    signal.removeEventListener('abort', leave);
    unsubscribe();
  }
}
