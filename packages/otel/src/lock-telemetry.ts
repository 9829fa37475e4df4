import type { LockEventMap, LockHandle } from '@lock/core';
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

/** A lock as this instrumentation marks it: its {@link Hold} under the instrumentation's own symbol. */
type MarkedLock = LockHandle & Record<symbol, Hold | undefined>;

/**
 * Turns one locker's events into metrics and spans. Holds are tracked from `acquired` to
 * `released`, `lost` or a failed release (hold time, the held-locks count, hold spans, handoffs);
 * core reports exactly one of these for every grant.
 *
 * A lock's {@link Hold} is kept on the lock object itself, under a symbol of this
 * instrumentation's own, rather than in a `Map` keyed by lock: on the uncontended Redis pair the
 * map's insert, lookup and delete cost about 0.4 µs per lock (measured), most of the budget, and a
 * `WeakMap` more. One symbol per instrumentation, so that two never see each other's holds.
 */
export class LockTelemetry {
  readonly #now: () => number;
  readonly #scopes: KeyScopes;
  readonly #spans: LockSpanMaker;
  readonly #mark = Symbol('@lock/otel hold');
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
  acquired(event: LockEventMap['acquired']): void {
    const now = this.#now();
    const scope = this.#scopes.of(event.key);
    const contended = event.contended ? 1 : 0;
    scope.waits[contended].record(event.waitMs / 1000);
    scope.acquisitions[contended].value += 1;
    scope.attempts.value += event.attempts;
    scope.held.value += 1;
    scope.heldHere += 1;
    if (event.contended) {
      const previous = this.#latest.get(event.key);
      if (previous !== undefined) this.#handoff(previous, now - event.waitMs, now);
    }
    const hold = new Hold(scope, now, this.#spans.acquired(event, scope));
    if (hold.span !== undefined) this.#traced.add(hold);
    (event.lock as MarkedLock)[this.#mark] = hold;
    this.#latest.set(event.key, hold);
    if (this.#latest.size > MAX_HANDOFF_CANDIDATES) this.#evictEndedHolds();
  }

  /** `acquire-failed`: the failed call's wait time, by error code; its acquire span. */
  acquireFailed(event: LockEventMap['acquire-failed']): void {
    const scope = this.#scopes.of(event.key);
    scope.failedWaits(event.code).record(event.waitMs / 1000);
    this.#spans.failed(event, scope);
  }

  /** `released`: hold time, held count, the handoff to a waiter granted before this reply. */
  released(event: LockEventMap['released']): void {
    const hold = this.#holdOf(event.lock);
    if (hold === undefined) return; // granted while the locker closed: never reported acquired
    this.#end(hold, 'released', event.holdMs);
    hold.releaseSentAt = event.sentAt;
    const successor = hold.successor;
    if (successor !== undefined && event.sentAt >= successor.startedAt) {
      hold.scope.handoffs.record(Math.max(0, successor.grantedAt - event.sentAt) / 1000);
    }
  }

  /** `lost`: loss count by reason, detection delay, remaining validity, hold time, span. */
  lost(event: LockEventMap['lost']): void {
    const hold = this.#holdOf(event.lock);
    const scope = hold?.scope ?? this.#scopes.of(event.key);
    const loss = scope.loss(event.reason, event.beforeValidityEndMs < 0);
    loss.tally.value += 1;
    loss.detection.record(Math.max(0, event.sinceLastRenewalMs) / 1000);
    loss.remaining.record(Math.max(0, event.beforeValidityEndMs) / 1000);
    if (hold === undefined) return; // lost before its grant was reported
    if (hold.span !== undefined) spanLost(hold.span, event);
    this.#end(hold, 'lost', event.holdMs, `lock lost (${event.reason})`);
  }

  /** `renewed`: renewal count and round trip. */
  renewed(event: LockEventMap['renewed']): void {
    const hold = this.#holdOf(event.lock);
    const scope = hold?.scope ?? this.#scopes.of(event.key);
    scope.renewals.value += 1;
    scope.renewalTimes.record(Math.max(0, this.#now() - event.sentAt) / 1000);
    if (hold !== undefined) hold.renewals += 1;
  }

  /** `at-risk`: risk count, span event. */
  atRisk(event: LockEventMap['at-risk']): void {
    const hold = this.#holdOf(event.lock);
    (hold?.scope ?? this.#scopes.of(event.key)).risks.value += 1;
    if (hold?.span !== undefined) spanAtRisk(hold.span, event);
  }

  /** `denied`: contention count; the denial goes on its call's acquire span. */
  denied(event: LockEventMap['denied']): void {
    this.#scopes.of(event.key).denials.value += 1;
    this.#spans.denied(event);
  }

  /** `backend-error`: error count; a release without a reply ends its hold. */
  backendError(event: LockEventMap['backend-error']): void {
    this.#scopes.of(event.key).error(event.code, event.operation).value += 1;
    if (event.operation !== 'release' || event.lock === undefined) return;
    const hold = this.#holdOf(event.lock);
    if (hold === undefined) return;
    this.#end(
      hold,
      'release_failed',
      this.#now() - hold.grantedAt,
      'release failed: the lock expires by its TTL',
    );
  }

  /**
   * Stops tracking: open hold spans end (without a `lock.hold.end`), and the holds still open
   * leave the held-locks count, which would otherwise stay up forever. (Their locks keep their
   * marks; with the listeners gone, nothing reads them again.)
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

  /** The live hold of `lock` (none for a lock granted before this instrumentation, or ended). */
  #holdOf(lock: LockHandle): Hold | undefined {
    const hold = (lock as MarkedLock)[this.#mark];
    return hold === undefined || hold.ended ? undefined : hold;
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
