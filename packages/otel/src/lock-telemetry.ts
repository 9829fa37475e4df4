import { isLockError, type LockEventMap, type LockHandle } from '@lock/core';
import type { Span } from '@opentelemetry/api';
import type { HoldEnd, KeyScope, KeyScopes } from './key-scope.js';
import type { LockInstruments } from './lock-instruments.js';
import { endHoldSpan, type LockSpanMaker, spanAtRisk, spanLost } from './lock-spans.js';

/** What this instrumentation knows of a lock it saw granted (a class: one shape, made often). */
class Hold {
  renewals = 0;
  ended = false;
  /** When its release was confirmed, on the locker's clock (for the next holder's handoff). */
  releasedAt: number | undefined = undefined;
  /** Set when the key was granted to a waiting call of this process before this release was confirmed. */
  handedOverEarly = false;

  constructor(
    readonly lock: LockHandle,
    readonly key: string,
    readonly scope: KeyScope,
    /** When the grant was reported, on the locker's clock. */
    readonly grantedAt: number,
    readonly span: Span | undefined,
  ) {}
}

/** Most ended holds kept for measuring the handoff to the next holder of their key. */
const MAX_HANDOFF_CANDIDATES = 10_000;

/**
 * Turns one locker's events into metrics and spans. Holds are tracked from `acquired` to
 * `released` or `lost` (hold time on loss, the held-locks count, hold spans, handoffs); a lock
 * whose end core reports with no event of its own is found by {@link LockTelemetry.sweep}.
 */
export class LockTelemetry {
  readonly #now: () => number;
  readonly #instruments: LockInstruments;
  readonly #scopes: KeyScopes;
  readonly #spans: LockSpanMaker;
  /** Holds not yet ended, by lock. */
  readonly #live = new Map<LockHandle, Hold>();
  /** The latest hold of each key, live or ended (its release time dates the next handoff). */
  readonly #latest = new Map<string, Hold>();

  constructor(
    now: () => number,
    instruments: LockInstruments,
    scopes: KeyScopes,
    spans: LockSpanMaker,
  ) {
    this.#now = now;
    this.#instruments = instruments;
    this.#scopes = scopes;
    this.#spans = spans;
  }

  /** `acquired`: wait time, acquisition and attempt counts, held count, handoff, spans. */
  acquired(event: LockEventMap['acquired']): void {
    const now = this.#now();
    const scope = this.#scopes.of(event.key);
    const contended = event.contended ? 1 : 0;
    this.#instruments.acquireDuration.record(event.waitMs / 1000, scope.byContention[contended]);
    scope.acquisitions[contended].value += 1;
    scope.attempts.value += event.attempts;
    scope.held.value += 1;
    const previous = this.#latest.get(event.key);
    if (previous !== undefined && event.contended) {
      this.#handoff(previous, now - event.waitMs, now, scope);
    }
    const hold = new Hold(event.lock, event.key, scope, now, this.#spans.acquired(event, scope));
    this.#live.set(event.lock, hold);
    this.#latest.set(event.key, hold);
    if (this.#latest.size > MAX_HANDOFF_CANDIDATES) this.#evictEndedHolds();
  }

  /** `released`: hold time, held count, a handoff that beat the release's reply. */
  released(event: LockEventMap['released']): void {
    const hold = this.#live.get(event.lock);
    if (hold === undefined) return; // granted while the locker closed: never reported acquired
    this.#end(hold, 'released', event.holdMs);
    // Core's hold time runs from the grant to now, on the same clock: no second clock read.
    hold.releasedAt = hold.grantedAt + event.holdMs;
    if (hold.handedOverEarly) this.#instruments.handoffDuration.record(0, hold.scope.base);
  }

  /** `lost`: loss count by reason, detection delay, remaining validity, hold time, span. */
  lost(event: LockEventMap['lost']): void {
    const scope = this.#scopes.of(event.key);
    const loss = scope.loss(event.reason, event.beforeValidityEndMs < 0);
    loss.tally.value += 1;
    this.#instruments.lossDetectionDuration.record(
      Math.max(0, event.sinceLastRenewalMs) / 1000,
      loss.attributes,
    );
    this.#instruments.lossRemainingValidity.record(
      Math.max(0, event.beforeValidityEndMs) / 1000,
      loss.attributes,
    );
    const hold = this.#live.get(event.lock);
    if (hold === undefined) return; // lost before its grant was reported
    if (hold.span !== undefined) spanLost(hold.span, event);
    this.#end(hold, 'lost', this.#now() - hold.grantedAt, `lock lost (${event.reason})`);
  }

  /** `renewed`: renewal count and round trip. */
  renewed(event: LockEventMap['renewed']): void {
    const hold = this.#live.get(event.lock);
    const scope = hold?.scope ?? this.#scopes.of(event.key);
    scope.renewals.value += 1;
    this.#instruments.renewalDuration.record(
      Math.max(0, this.#now() - event.sentAt) / 1000,
      scope.base,
    );
    if (hold !== undefined) hold.renewals += 1;
  }

  /** `at-risk`: risk count, span event. */
  atRisk(event: LockEventMap['at-risk']): void {
    const hold = this.#live.get(event.lock);
    (hold?.scope ?? this.#scopes.of(event.key)).risks.value += 1;
    if (hold?.span !== undefined) spanAtRisk(hold.span, event);
  }

  /** `denied`: contention count. */
  denied(event: LockEventMap['denied']): void {
    this.#scopes.of(event.key).denials.value += 1;
  }

  /** `backend-error`: error count; a failed release ends its hold. */
  backendError(event: LockEventMap['backend-error']): void {
    this.#scopes.of(event.key).error(event.code, event.operation).value += 1;
    if (event.operation === 'release' && event.key !== undefined) this.#releaseFailed(event.key);
  }

  /**
   * Ends holds whose end came with no event: a release the backend refused (core aborts the
   * lock's signal with a `released-elsewhere` loss but reports neither `released` nor `lost`).
   * Also lets core notice a lock whose validity ran out while its timer was late. Runs before
   * each metric collection and on a slow timer.
   */
  sweep(): void {
    for (const hold of this.#live.values()) {
      // Reading `held` may itself report a loss (by the clock), which ends the hold.
      if (hold.ended || hold.lock.held) continue;
      const reason: unknown = hold.lock.signal.aborted ? hold.lock.signal.reason : undefined;
      if (hold.ended || !isLockError(reason, 'LOST')) continue; // a release still under way
      // When the refusal came is unknown: the loss is counted, with no hold time or detection delay.
      hold.scope.loss(reason.reason, false).tally.value += 1;
      this.#end(hold, 'lost', undefined, `lock lost (${reason.reason}): its release was refused`);
    }
  }

  /**
   * Stops tracking: open hold spans end (without a `lock.hold.end`), and the holds still open
   * leave the held-locks count, which would otherwise stay up forever.
   */
  stop(): void {
    for (const hold of this.#live.values()) this.#end(hold, 'unobserved', undefined);
    this.#latest.clear();
  }

  #end(hold: Hold, end: HoldEnd | 'unobserved', holdMs: number | undefined, detail?: string): void {
    if (hold.ended) return;
    hold.ended = true;
    this.#live.delete(hold.lock);
    hold.scope.held.value -= 1;
    if (holdMs !== undefined && end !== 'unobserved') {
      this.#instruments.holdDuration.record(Math.max(0, holdMs) / 1000, hold.scope.byHoldEnd[end]);
    }
    if (hold.span !== undefined) endHoldSpan(hold.span, end, hold.renewals, detail);
  }

  /**
   * A waiting call of this process got `previous`'s key: the handoff runs from `previous`'s
   * confirmed release; if the grant came first (both replies raced), it is recorded as 0 once
   * the release is confirmed. A release before the call started is no handoff.
   */
  #handoff(previous: Hold, callStartedAt: number, now: number, scope: KeyScope): void {
    if (previous.releasedAt !== undefined) {
      if (previous.releasedAt >= callStartedAt) {
        this.#instruments.handoffDuration.record((now - previous.releasedAt) / 1000, scope.base);
      }
    } else if (!previous.ended) {
      previous.handedOverEarly = true;
    }
  }

  /** A release failed with no reply: its lock is left to expire by its TTL. */
  #releaseFailed(key: string): void {
    const latest = this.#latest.get(key);
    const candidates =
      latest !== undefined && !latest.ended && !latest.lock.held
        ? [latest]
        : [...this.#live.values()].filter((hold) => hold.key === key && !hold.lock.held);
    for (const hold of candidates) {
      this.#end(
        hold,
        'release_failed',
        this.#now() - hold.grantedAt,
        'release failed: the lock expires by its TTL',
      );
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
