/**
 * How long a lock is certainly valid, given every request that set its TTL: the acquire and
 * each renewal (keepalive or the user's own `extend`), whether answered, in flight, or lost.
 * @module
 */

/** One request that sets a lock's TTL: when it was sent (local clock) and the TTL it asked for. */
export interface Renewal {
  readonly sentAt: number;
  readonly ttlMs: number;
  /** Its place in the order of sends and answers, set when a `Validity` first sees it. */
  sendEvent?: number;
}

/** A confirmed renewal and when its confirmation arrived. */
interface Confirmed {
  readonly renewal: Renewal;
  readonly at: number;
  /** Its place in the order of sends and answers, for when the clock reads the same for both. */
  readonly event: number;
}

/**
 * Sends and answers in the order this process saw them. Two of them can read the same time on
 * the clock (a coarse clock, a manual one, a tick that sends while an answer is taken in), and
 * then only this order tells whether an answer came after a request was sent.
 */
let lastEvent = 0;

/** A request's send event, given it when first seen (on the request: a WeakMap cost more GC). */
function sendEventOf(renewal: Renewal): number {
  renewal.sendEvent ??= ++lastEvent;
  return renewal.sendEvent;
}

/** Whether `answer` came after `request` was sent, so that it may have been applied after it. */
function answeredAfter(answer: Confirmed, request: Renewal): boolean {
  return (
    answer.at > request.sentAt ||
    (answer.at === request.sentAt && answer.event > sendEventOf(request))
  );
}

/**
 * Tracks the requests that set one lock's TTL and derives the time until which the lock is
 * certainly held (`until`, on the local monotonic clock).
 *
 * The backend keeps the lock until the last request it *applied* plus that request's TTL. The
 * order it applies requests in is not the order they were sent or answered (two connections,
 * Redlock nodes, a driver's replay, a paused server draining its socket later), so the bound
 * counts every request that may have been applied last:
 *
 * - `basis`, the confirmed request sent last: whichever request is applied last, it is applied
 *   after `basis` was sent, so the lock lives at least until `basis.sentAt + ttl` of that request;
 * - requests in flight or whose outcome is unknown (no reply, a timeout): each may still be
 *   applied, at the earliest when it was sent;
 * - requests confirmed after `basis` was sent: they may have been applied after it (when the
 *   clock reads the same for the answer and the send, the order this process saw them in decides).
 *
 * `until` is the smallest `max(sentAt, basis.sentAt) + ttl − margin(ttl)` over those. When every
 * request asks for the same TTL (the usual case) that is simply `basis.sentAt + ttl − margin`;
 * it only matters when the TTL changes: a keepalive for 30 s whose confirmation arrives after the
 * user's `extend(1000)` can no longer stretch the lock to 30 s. Requests with an unknown outcome
 * are kept for the lock's life: they may land at any time, but never before they were sent (once
 * a request sent after them is confirmed, only the smallest TTL among them is kept).
 */
export class Validity {
  #basis: Confirmed;
  /** Sent and not answered yet. */
  #open: Renewal[] | undefined;
  /** Confirmed after `#basis` was sent (so possibly applied after it). */
  #late: Confirmed[] | undefined;
  /** Smallest TTL among requests whose outcome is unknown, sent no later than `#basis`. */
  #unknownTtl = Number.POSITIVE_INFINITY;
  /** Requests whose outcome is unknown sent after `#basis`: they bound from their own send time. */
  #unknownAfter: Renewal[] | undefined;
  #until = 0;
  #lastConfirmedAt: number;
  readonly #margin: (ttlMs: number) => number;

  /**
   * @param acquired the acquire request, confirmed at `confirmedAt`.
   * @param margin the safety margin subtracted from a TTL (clock drift, timer lateness).
   */
  constructor(acquired: Renewal, confirmedAt: number, margin: (ttlMs: number) => number) {
    sendEventOf(acquired);
    this.#basis = { renewal: acquired, at: confirmedAt, event: ++lastEvent };
    this.#lastConfirmedAt = confirmedAt;
    this.#margin = margin;
    this.#recompute();
  }

  /** Local-clock time until which the lock is certainly held. */
  get until(): number {
    return this.#until;
  }

  /** When the latest confirmation (of the acquire or a renewal) arrived. */
  get lastConfirmedAt(): number {
    return this.#lastConfirmedAt;
  }

  /** A request was sent: until it is answered it may be applied last. */
  begin(renewal: Renewal): void {
    sendEventOf(renewal);
    if (this.#open === undefined) this.#open = [renewal];
    else this.#open.push(renewal);
    this.#recompute();
  }

  /** `renewal` was confirmed at `now` (also when its reply came after it was given up on). */
  confirm(renewal: Renewal, now: number): void {
    this.#settle(renewal);
    this.#lastConfirmedAt = Math.max(this.#lastConfirmedAt, now);
    const confirmed: Confirmed = { renewal, at: now, event: ++lastEvent };
    if (renewal.sentAt >= this.#basis.renewal.sentAt) {
      const previous = this.#basis;
      this.#basis = confirmed;
      // A request is applied before its answer arrives: only those answered after the new basis
      // was sent can have been applied after it.
      const late = this.#late?.filter((entry) => answeredAfter(entry, renewal)) ?? [];
      if (answeredAfter(previous, renewal)) late.push(previous);
      this.#late = late.length > 0 ? late : undefined;
      if (this.#unknownAfter !== undefined) this.#foldUnknown(renewal.sentAt);
    } else if (this.#late === undefined) {
      this.#late = [confirmed];
    } else {
      this.#late.push(confirmed);
    }
    this.#recompute();
  }

  /** No reply came for `renewal` (a timeout, a lost connection): it may be applied any time. */
  unknown(renewal: Renewal): void {
    this.#settle(renewal);
    // If it lands, it lands after it was sent: sent after the basis, it bounds from its own send
    // time (counted from the basis, it would cut a live lock short).
    if (renewal.sentAt > this.#basis.renewal.sentAt) {
      if (this.#unknownAfter === undefined) this.#unknownAfter = [renewal];
      else if (!this.#unknownAfter.includes(renewal)) this.#unknownAfter.push(renewal);
    } else {
      this.#unknownTtl = Math.min(this.#unknownTtl, renewal.ttlMs);
    }
    this.#recompute();
  }

  /** A request sent at `sentAt` became the basis: unknown ones sent no later now bound from it. */
  #foldUnknown(sentAt: number): void {
    const after: Renewal[] = [];
    for (const renewal of this.#unknownAfter ?? []) {
      if (renewal.sentAt > sentAt) after.push(renewal);
      else this.#unknownTtl = Math.min(this.#unknownTtl, renewal.ttlMs);
    }
    this.#unknownAfter = after.length > 0 ? after : undefined;
  }

  /** `renewal` was refused or will never be applied: it no longer bounds the lock. */
  drop(renewal: Renewal): void {
    this.#settle(renewal);
    this.#recompute();
  }

  #settle(renewal: Renewal): void {
    const open = this.#open;
    if (open === undefined) return;
    const index = open.indexOf(renewal);
    if (index >= 0) open.splice(index, 1);
    if (open.length === 0) this.#open = undefined;
  }

  #recompute(): void {
    const base = this.#basis.renewal.sentAt;
    let until = this.#bound(base, base, this.#basis.renewal.ttlMs);
    if (this.#open !== undefined) {
      for (const renewal of this.#open)
        until = Math.min(until, this.#bound(base, renewal.sentAt, renewal.ttlMs));
    }
    if (this.#late !== undefined) {
      for (const { renewal } of this.#late)
        until = Math.min(until, this.#bound(base, base, renewal.ttlMs));
    }
    if (Number.isFinite(this.#unknownTtl))
      until = Math.min(until, this.#bound(base, base, this.#unknownTtl));
    if (this.#unknownAfter !== undefined) {
      for (const renewal of this.#unknownAfter)
        until = Math.min(until, this.#bound(base, renewal.sentAt, renewal.ttlMs));
    }
    this.#until = until;
  }

  /** The end of a request's TTL counted from its send time, or from `base` if sent earlier. */
  #bound(base: number, sentAt: number, ttlMs: number): number {
    return Math.max(sentAt, base) + ttlMs - this.#margin(ttlMs);
  }
}
