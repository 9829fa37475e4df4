import type { LockEventMap, LockHandle, LockObserver, LostReason } from '@lock/core';
import type { Span } from '@opentelemetry/api';
import { Handoffs } from './handoffs.js';
import type { HoldEnd, KeyScope, KeyScopes } from './key-scope.js';
import { endHoldSpan, type LockSpanMaker, spanAtRisk, spanLost } from './lock-spans.js';

/**
 * What this instrumentation keeps on a lock that has a hold span (a class: one shape, made
 * often). A lock without one keeps its {@link KeyScope} alone: nothing is made per lock.
 */
class TracedHold {
  renewals = 0;
  ended = false;

  constructor(
    readonly scope: KeyScope,
    readonly span: Span,
  ) {}
}

/** What this instrumentation keeps on a lock it saw granted. */
type Hold = KeyScope | TracedHold;

/**
 * Turns one locker's lock events into metrics and spans: the locker's {@link LockObserver} for
 * everything about a held lock (core calls it with positional arguments and the times it already
 * read, and keeps what `acquired` returned on the lock for it), and listener methods for the
 * events of calls (`denied`, `acquire-failed`, `backend-error`). Holds are tracked from
 * `acquired` to `released` (or its failure) or `lost` (hold time, the held-locks count, hold
 * spans, handoffs); core reports exactly one of these for every grant.
 *
 * Core keeping the state is what makes a lock cheap to follow: a `Map` keyed by lock costs an
 * insert, a lookup and a delete per lock (about 0.4 µs on the uncontended Redis pair, measured),
 * and a property added to the lock changes its shape under core's feet. An untraced lock's state
 * is its key's {@link KeyScope}, which exists already, so following it allocates nothing.
 */
export class LockTelemetry implements LockObserver<Hold> {
  readonly #now: () => number;
  readonly #scopes: KeyScopes;
  readonly #spans: LockSpanMaker;
  /** Holds with a span still open (ended by {@link LockTelemetry.stop}). */
  readonly #traced = new Set<TracedHold>();
  readonly #handoffs = new Handoffs();

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
    this.#handoffs.granted(key, contended, grantedAt - waitMs, grantedAt);
    const span = this.#spans.acquired(lock, call, waitMs, attempts, contended, scope);
    if (span === undefined) return scope;
    const hold = new TracedHold(scope, span);
    this.#traced.add(hold);
    return hold;
  }

  /**
   * `released`: hold time, held count, the handoff to a waiter granted before this reply; a
   * release without a reply (`error`) ends the hold as `release_failed`.
   */
  released(
    lock: LockHandle,
    hold: Hold | undefined,
    holdMs: number,
    sentAt: number,
    error?: unknown,
  ): void {
    // None: granted before this instrumentation, or while the locker closed (never reported).
    if (hold === undefined) return;
    if (error !== undefined) {
      this.#end(hold, 'release_failed', holdMs, 'release failed: the lock expires by its TTL');
      return;
    }
    const scope = this.#end(hold, 'released', holdMs);
    if (scope !== undefined) this.#handoffs.released(lock.key, scope, holdMs, sentAt);
  }

  /** `lost`: loss count by reason, detection delay, remaining validity, hold time, span. */
  lost(
    lock: LockHandle,
    hold: Hold | undefined,
    reason: LostReason,
    holdMs: number,
    sinceLastRenewalMs: number,
    beforeValidityEndMs: number,
  ): void {
    const live = isLive(hold) ? hold : undefined;
    const scope = this.#scopeOf(lock, live);
    const loss = scope.loss(reason, beforeValidityEndMs < 0);
    loss.tally.value += 1;
    loss.detection.record(Math.max(0, sinceLastRenewalMs) / 1000);
    loss.remaining.record(Math.max(0, beforeValidityEndMs) / 1000);
    if (live === undefined) return; // lost before its grant was reported
    if (live instanceof TracedHold) {
      spanLost(live.span, reason, sinceLastRenewalMs, beforeValidityEndMs);
    }
    this.#end(live, 'lost', holdMs, `lock lost (${reason})`);
  }

  /** `renewed`: renewal count and round trip. */
  renewed(lock: LockHandle, hold: Hold | undefined, sentAt: number): void {
    const live = isLive(hold) ? hold : undefined;
    const scope = this.#scopeOf(lock, live);
    scope.renewals.value += 1;
    scope.renewalTimes.record(Math.max(0, this.#now() - sentAt) / 1000);
    if (live instanceof TracedHold) live.renewals += 1;
  }

  /** `at-risk`: risk count, span event. */
  atRisk(lock: LockHandle, hold: Hold | undefined, remainingMs: number, cause: unknown): void {
    const live = isLive(hold) ? hold : undefined;
    this.#scopeOf(lock, live).risks.value += 1;
    if (live instanceof TracedHold) spanAtRisk(live.span, remainingMs, cause);
  }

  /** `acquire-failed`: the failed call's wait time, by error code; its acquire span. */
  acquireFailed(event: LockEventMap['acquire-failed']): void {
    const scope = this.#scopes.of(event.key);
    scope.failedWaits(event.code).record(event.waitMs / 1000);
    this.#spans.failed(event, scope);
  }

  /** `denied`: contention count (and the key is followed for handoffs); the denial goes on its call's acquire span. */
  denied(event: LockEventMap['denied']): void {
    this.#scopes.of(event.key).denials.value += 1;
    this.#handoffs.contended(event.key);
    this.#spans.denied(event);
  }

  /** `backend-error`: error count (a release without a reply ends its hold in `released`). */
  backendError(event: LockEventMap['backend-error']): void {
    this.#scopes.of(event.key).error(event.code, event.operation).value += 1;
  }

  /**
   * Stops tracking: open hold spans end (without a `lock.hold.end`), and the holds still open
   * leave the held-locks count, which would otherwise stay up forever. (Core keeps their state on
   * their locks for this observer; detached, it is never called with them again.)
   */
  stop(): void {
    for (const hold of this.#traced) endHoldSpan(hold.span, 'unobserved', hold.renewals);
    this.#traced.clear();
    for (const scope of this.#scopes.all()) {
      scope.held.value -= scope.heldHere;
      scope.heldHere = 0;
    }
    this.#handoffs.clear();
    this.#spans.stop();
  }

  /** The scope of `live`, or of `lock`'s key when this instrumentation does not follow it. */
  #scopeOf(lock: LockHandle, live: Hold | undefined): KeyScope {
    return live === undefined ? this.#scopes.of(lock.key) : scopeOf(live);
  }

  /**
   * Ends `hold` as `end`: its hold time and the held-locks count, and its span. Returns the scope
   * it was recorded in; undefined when a traced hold had ended already (core reports one end per
   * grant; this is the guard).
   */
  #end(hold: Hold, end: HoldEnd, holdMs: number, detail?: string): KeyScope | undefined {
    const scope = scopeOf(hold);
    if (hold instanceof TracedHold) {
      if (hold.ended) return undefined;
      hold.ended = true;
      endHoldSpan(hold.span, end, hold.renewals, detail);
      this.#traced.delete(hold);
    }
    scope.held.value -= 1;
    scope.heldHere -= 1;
    scope.holds[end].record(Math.max(0, holdMs) / 1000);
    return scope;
  }
}

/** The key scope `hold` is recorded in. */
function scopeOf(hold: Hold): KeyScope {
  return hold instanceof TracedHold ? hold.scope : hold;
}

/** Whether `hold` is a hold this instrumentation still follows (not a traced one that ended). */
function isLive(hold: Hold | undefined): hold is Hold {
  return hold !== undefined && !(hold instanceof TracedHold && hold.ended);
}
