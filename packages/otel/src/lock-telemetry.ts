import type { LockEventMap, LockHandle, LockObserver, LostReason } from '@lock/core';
import type { Span } from '@opentelemetry/api';
import type { HoldEnd, KeyScope, KeyScopes } from './key-scope.js';
import { endHoldSpan, type LockSpanMaker, spanAtRisk, spanLost } from './lock-spans.js';

/** What this instrumentation knows of a lock it saw granted (a class: one shape, made often). */
class Hold {
  renewals = 0;
  ended = false;
  /** When its release was sent, on the locker's clock (set once the release is confirmed). */
  releaseSentAt: number | undefined = undefined;
  /**
   * A call of this process that was waiting and got the key before this hold's release was
   * confirmed (both replies raced): when that call began and when it was granted.
   */
  successor: { readonly startedAt: number; readonly grantedAt: number } | undefined = undefined;

  constructor(
    readonly scope: KeyScope,
    /** When the grant was reported, on the locker's clock. */
    readonly grantedAt: number,
    readonly span: Span | undefined,
  ) {}
}

/** Most ended holds kept for measuring the handoff to the next holder of their key. */
const MAX_HANDOFF_CANDIDATES = 10_000;

/**
 * Turns one locker's lock events into metrics and spans: the locker's {@link LockObserver} for
 * everything about a held lock (core calls it with positional arguments and the times it already
 * read, and keeps each lock's {@link Hold} on the lock for it), and listener methods for the
 * events of calls (`denied`, `acquire-failed`, `backend-error`). Holds are tracked from
 * `acquired` to `released` (or its failure) or `lost` (hold time, the held-locks count, hold
 * spans, handoffs); core reports exactly one of these for every grant.
 *
 * Core keeping the {@link Hold} is what makes a lock cheap to follow: a `Map` keyed by lock costs
 * an insert, a lookup and a delete per lock (about 0.4 µs on the uncontended Redis pair,
 * measured), and a property added to the lock changes its shape under core's feet.
 */
export class LockTelemetry implements LockObserver<Hold> {
  readonly #now: () => number;
  readonly #scopes: KeyScopes;
  readonly #spans: LockSpanMaker;
  /** Holds with a span still open (ended by {@link LockTelemetry.stop}). */
  readonly #traced = new Set<Hold>();
  /** The latest hold of each key, live or ended (its release's send time dates the next handoff). */
  readonly #latest = new Map<string, Hold>();

  constructor(now: () => number, scopes: KeyScopes, spans: LockSpanMaker) {
    this.#now = now;
    this.#scopes = scopes;
    this.#spans = spans;
  }

  /** `acquired`: wait time, acquisition and attempt counts, held count, handoff, spans. */
  acquired(
    lock: LockHandle,
    waitMs: number,
    attempts: number,
    contended: boolean,
    call: number,
    grantedAt: number,
  ): Hold {
    const key = lock.key;
    const scope = this.#scopes.of(key);
    const index = contended ? 1 : 0;
    scope.waits[index].record(waitMs / 1000);
    scope.acquisitions[index].value += 1;
    scope.attempts.value += attempts;
    scope.held.value += 1;
    scope.heldHere += 1;
    const latest = this.#latest;
    if (contended) {
      const previous = latest.get(key);
      if (previous !== undefined) this.#handoff(previous, grantedAt - waitMs, grantedAt);
    }
    const span = this.#spans.acquired(lock, call, waitMs, attempts, contended, scope);
    const hold = new Hold(scope, grantedAt, span);
    if (span !== undefined) this.#traced.add(hold);
    latest.set(key, hold);
    if (latest.size > MAX_HANDOFF_CANDIDATES) this.#evictEndedHolds();
    return hold;
  }

  /**
   * `released`: hold time, held count, the handoff to a waiter granted before this reply; a
   * release without a reply (`error`) ends the hold as `release_failed`.
   */
  released(
    _lock: LockHandle,
    hold: Hold | undefined,
    holdMs: number,
    sentAt: number,
    error?: unknown,
  ): void {
    // None: granted before this instrumentation, or while the locker closed (never reported).
    if (hold === undefined || hold.ended) return;
    if (error !== undefined) {
      this.#end(hold, 'release_failed', holdMs, 'release failed: the lock expires by its TTL');
      return;
    }
    this.#end(hold, 'released', holdMs);
    hold.releaseSentAt = sentAt;
    const successor = hold.successor;
    if (successor !== undefined && sentAt >= successor.startedAt) {
      hold.scope.handoffs.record(Math.max(0, successor.grantedAt - sentAt) / 1000);
    }
  }

  /** `lost`: loss count by reason, detection delay, remaining validity, hold time, span. */
  lost(
    lock: LockHandle,
    tracked: Hold | undefined,
    reason: LostReason,
    holdMs: number,
    sinceLastRenewalMs: number,
    beforeValidityEndMs: number,
  ): void {
    const hold = tracked?.ended === false ? tracked : undefined;
    const scope = hold?.scope ?? this.#scopes.of(lock.key);
    const loss = scope.loss(reason, beforeValidityEndMs < 0);
    loss.tally.value += 1;
    loss.detection.record(Math.max(0, sinceLastRenewalMs) / 1000);
    loss.remaining.record(Math.max(0, beforeValidityEndMs) / 1000);
    if (hold === undefined) return; // lost before its grant was reported
    if (hold.span !== undefined) {
      spanLost(hold.span, reason, sinceLastRenewalMs, beforeValidityEndMs);
    }
    this.#end(hold, 'lost', holdMs, `lock lost (${reason})`);
  }

  /** `renewed`: renewal count and round trip. */
  renewed(lock: LockHandle, tracked: Hold | undefined, sentAt: number): void {
    const hold = tracked?.ended === false ? tracked : undefined;
    const scope = hold?.scope ?? this.#scopes.of(lock.key);
    scope.renewals.value += 1;
    scope.renewalTimes.record(Math.max(0, this.#now() - sentAt) / 1000);
    if (hold !== undefined) hold.renewals += 1;
  }

  /** `at-risk`: risk count, span event. */
  atRisk(lock: LockHandle, tracked: Hold | undefined, remainingMs: number, cause: unknown): void {
    const hold = tracked?.ended === false ? tracked : undefined;
    (hold?.scope ?? this.#scopes.of(lock.key)).risks.value += 1;
    if (hold?.span !== undefined) spanAtRisk(hold.span, remainingMs, cause);
  }

  /** `acquire-failed`: the failed call's wait time, by error code; its acquire span. */
  acquireFailed(event: LockEventMap['acquire-failed']): void {
    const scope = this.#scopes.of(event.key);
    scope.failedWaits(event.code).record(event.waitMs / 1000);
    this.#spans.failed(event, scope);
  }

  /** `denied`: contention count; the denial goes on its call's acquire span. */
  denied(event: LockEventMap['denied']): void {
    this.#scopes.of(event.key).denials.value += 1;
    this.#spans.denied(event);
  }

  /** `backend-error`: error count (a release without a reply ends its hold in `released`). */
  backendError(event: LockEventMap['backend-error']): void {
    this.#scopes.of(event.key).error(event.code, event.operation).value += 1;
  }

  /**
   * Stops tracking: open hold spans end (without a `lock.hold.end`), and the holds still open
   * leave the held-locks count, which would otherwise stay up forever. (Core keeps their holds on
   * their locks for this observer; detached, it is never called with them again.)
   */
  stop(): void {
    for (const hold of this.#traced) {
      if (hold.span !== undefined) endHoldSpan(hold.span, 'unobserved', hold.renewals);
    }
    this.#traced.clear();
    for (const scope of this.#scopes.all()) {
      scope.held.value -= scope.heldHere;
      scope.heldHere = 0;
    }
    this.#latest.clear();
    this.#spans.stop();
  }

  #end(hold: Hold, end: HoldEnd, holdMs: number, detail?: string): void {
    hold.ended = true;
    hold.scope.held.value -= 1;
    hold.scope.heldHere -= 1;
    hold.scope.holds[end].record(Math.max(0, holdMs) / 1000);
    if (hold.span !== undefined) {
      endHoldSpan(hold.span, end, hold.renewals, detail);
      this.#traced.delete(hold);
    }
  }

  /**
   * A call of this process that began at `startedAt` and waited got `previous`'s key at `now`:
   * the handoff runs from the moment `previous`'s release was sent. If the release is not
   * confirmed yet (both replies raced), it is recorded once it is. A release sent before the
   * call began is no handoff to it, nor is a hold that ended lost.
   */
  #handoff(previous: Hold, startedAt: number, now: number): void {
    if (previous.releaseSentAt !== undefined) {
      if (previous.releaseSentAt >= startedAt) {
        previous.scope.handoffs.record(Math.max(0, now - previous.releaseSentAt) / 1000);
      }
    } else if (!previous.ended) {
      previous.successor = { startedAt, grantedAt: now };
    }
  }

  /** Forgets the oldest ended holds (they only date handoffs of keys not taken again since). */
  #evictEndedHolds(): void {
    for (const [key, hold] of this.#latest) {
      if (this.#latest.size <= MAX_HANDOFF_CANDIDATES * 0.9) return;
      if (hold.ended) this.#latest.delete(key);
    }
  }
}
