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
import { CLAIM_FAIR, LEAVE_QUEUE } from './scripts.js';

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
 * takes the lock if it is free and this waiter is first. A release (one script) deletes the lock
 * and hands it straight to the first live waiter: it sets the lock to that waiter's owner token
 * with a TTL of at most the queue entry's lifetime, counts the fence, and publishes
 * "g:<ticket>:<fence>:<ttl>". The waiter learns it over pub/sub, so a handoff costs the release
 * and one message, not another round trip. If the message is lost, the waiter's next claim
 * (safety poll) finds the lock already its own, refreshes its TTL and reports it.
 *
 * Validity: core counts a lock's validity from a time it knows is *before* the server set the
 * TTL. For a handed-over lock that is the send time of this waiter's last claim answered "still
 * waiting" (the release came after the server processed that claim); for a lock taken or
 * refreshed by a claim, that claim's send time. The enqueue time alone would not do: a wait
 * longer than the TTL would give a lock already over.
 *
 * Dead waiters: a place expires unless its waiter claims again within `queueEntryTtl`, and a
 * lock handed to a waiter lives at most that long before it renews it, so a waiter that died in
 * the queue holds the others up for at most `queueEntryTtl`.
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
  // A release hands the lock straight to the first live waiter and announces
  // "g:<ticket>:<fence>:<ttl>"; older messages name a ticket to claim, or "free".
  let handedOver: { fence: number; ttlMs: number } | undefined;
  const takeHandover = (message: string) => {
    const [, forTicket, fence, ttlMs] = message.split(':');
    if (ticket === undefined || forTicket !== ticket) return false;
    handedOver = { fence: Number(fence), ttlMs: Number(ttlMs) };
    return true;
  };
  const unsubscribe = await context.subscribe(keys.channel, (message) => {
    heard.add(message);
    if (
      message === 'free' ||
      message === ticket ||
      (message.startsWith('g:') && takeHandover(message))
    ) {
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
        [keys.queue, keys.queueExpiry, keys.lock, keys.fence],
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
  // Send time of the last claim answered "still waiting": the server handed the lock over after
  // it processed that claim, so validity counted from its send time is never too long.
  let waitingSince = now();
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      if (handedOver !== undefined) {
        return {
          acquired: true,
          fence: handedOver.fence,
          ttlMs: handedOver.ttlMs,
          sentAt: waitingSince,
        };
      }
      woken = false;
      heard.clear();
      const sentAt = now();
      joined = true;
      const reply = await connection.eval(
        CLAIM_FAIR,
        [keys.lock, keys.fence, keys.queue, keys.queueExpiry, keys.queueTicket],
        [request.owner, ttl, String(context.entryTtlMs)],
        'acquire',
        request.key,
      );
      const result = toAcquireResult(reply);
      if (result.acquired) return { acquired: true, fence: result.fence, sentAt };
      ticket = result.ticket;
      waitingSince = sentAt;
      for (const message of heard) if (message.startsWith('g:')) takeHandover(message);
      if (
        heard.has('free') ||
        (ticket !== undefined && heard.has(ticket)) ||
        handedOver !== undefined
      ) {
        woken = true;
      }
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
