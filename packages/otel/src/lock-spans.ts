import type { LockEventMap, LockHandle, LostReason } from '@lock/core';
import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { HoldEnd, KeyScope } from './key-scope.js';
import type { SpanMode } from './options.js';
import { LockAttributes, LockSpans } from './semconv.js';

/** Wall-clock milliseconds with sub-millisecond precision, as span timestamps take them. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** A denied attempt of a traced acquire call, kept until the call ends and its span is made. */
interface Denial {
  /** Wall-clock time, as span timestamps take it. */
  readonly at: number;
  readonly holder: string | undefined;
  readonly remainingMs: number | undefined;
}

/**
 * Most traced acquire calls whose denials are kept at once. A `tryLock()` that is denied ends
 * with its `denied` event and nothing after it (core reports `acquire-failed` only for calls
 * that give up), so its denial is never claimed: the oldest are dropped beyond this many.
 */
const MAX_PENDING_CALLS = 1000;

/**
 * Makes the spans of one instrumentation: per acquire call, a `lock.acquire` span from the call
 * to the grant or to the moment it gave up (made when core reports the end: its event says how
 * long the call took), with a `lock.acquire.denied` event per attempt that found the key held;
 * per grant, a `lock.hold` span from the grant to the release or loss, linked to it. Both are
 * children of the span active when the call ended (the caller's: core reports it in the
 * caller's async context).
 */
export class LockSpanMaker {
  readonly #tracer: Tracer;
  readonly #mode: SpanMode;
  /** Denials of traced calls still under way, by call id (oldest first). */
  readonly #pending = new Map<number, Denial[]>();

  constructor(tracer: Tracer, mode: SpanMode) {
    this.#tracer = tracer;
    this.#mode = mode;
  }

  /** Keeps `event` for its call's acquire span, if spans are made for it. */
  denied(event: LockEventMap['denied']): void {
    if (this.#parent() === undefined) return;
    let denials = this.#pending.get(event.call);
    if (denials === undefined) {
      if (this.#pending.size >= MAX_PENDING_CALLS) {
        const oldest = this.#pending.keys().next().value as number;
        this.#pending.delete(oldest);
      }
      denials = [];
      this.#pending.set(event.call, denials);
    }
    denials.push({ at: epochNow(), holder: event.holder, remainingMs: event.remainingMs });
  }

  /**
   * Records the acquire span of call `call`, which got `lock` after `waitMs` and `attempts`, and
   * starts its hold span (none, per the mode).
   */
  acquired(
    lock: LockHandle,
    call: number,
    waitMs: number,
    attempts: number,
    contended: boolean,
    scope: KeyScope,
  ): Span | undefined {
    const denials = this.#take(call);
    const parent = this.#parent();
    if (parent === undefined) return undefined;
    const now = epochNow();
    const acquire = this.#acquireSpan(parent, now - waitMs, denials, {
      ...scope.base,
      [LockAttributes.CONTENDED]: contended,
      [LockAttributes.ATTEMPTS]: attempts,
    });
    // Sampled out (a root span's own sampling, in 'always' mode): no hold span either, so that
    // a trace holds both or neither, and an unsampled lock costs one span instead of two.
    const sampled = acquire.isRecording(); // asked before end(): an ended span records no more
    acquire.end(now);
    if (!sampled) return undefined;
    return this.#tracer.startSpan(
      LockSpans.HOLD,
      {
        startTime: now,
        attributes: {
          ...scope.base,
          [LockAttributes.FENCE]: lock.fence,
          [LockAttributes.TTL]: lock.ttlMs / 1000,
        },
        links: [{ context: acquire.spanContext() }],
      },
      parent,
    );
  }

  /** Records the acquire span of a call that ended without the lock, as an error. */
  failed(event: LockEventMap['acquire-failed'], scope: KeyScope): void {
    const denials = this.#take(event.call);
    const parent = this.#parent();
    if (parent === undefined) return;
    const now = epochNow();
    const acquire = this.#acquireSpan(parent, now - event.waitMs, denials, {
      ...scope.base,
      [LockAttributes.ATTEMPTS]: event.attempts,
      [LockAttributes.ERROR_TYPE]: event.code,
    });
    // The code only: the error's message names the key, which is recorded only when asked.
    acquire.setStatus({ code: SpanStatusCode.ERROR, message: `lock call failed: ${event.code}` });
    acquire.end(now);
  }

  /** Forgets the denials kept (the instrumentation stopped). */
  stop(): void {
    this.#pending.clear();
  }

  #acquireSpan(
    parent: Context,
    startTime: number,
    denials: readonly Denial[] | undefined,
    attributes: Attributes,
  ): Span {
    const span = this.#tracer.startSpan(LockSpans.ACQUIRE, { startTime, attributes }, parent);
    for (const denial of denials ?? []) {
      const denialAttributes: Attributes = {};
      if (denial.holder !== undefined) denialAttributes[LockAttributes.HOLDER] = denial.holder;
      if (denial.remainingMs !== undefined) {
        denialAttributes[LockAttributes.HOLDER_REMAINING] = denial.remainingMs / 1000;
      }
      span.addEvent('lock.acquire.denied', denialAttributes, denial.at);
    }
    return span;
  }

  /** The denials kept for `call`, forgotten. */
  #take(call: number): Denial[] | undefined {
    if (this.#pending.size === 0) return undefined;
    const denials = this.#pending.get(call);
    if (denials !== undefined) this.#pending.delete(call);
    return denials;
  }

  /** The context to make lock spans in now, or undefined when none are to be made. */
  #parent(): Context | undefined {
    if (this.#mode === 'off') return undefined;
    const active = context.active();
    // Outside any context (and always with no context manager registered): no span is active.
    if (active === ROOT_CONTEXT) return this.#mode === 'always' ? active : undefined;
    // A parent that is not recording belongs to a trace that was not sampled: its children would
    // not be recorded either (with the SDK's parent-based sampling), so none are made.
    if (this.#mode === 'with-parent' && trace.getSpan(active)?.isRecording() !== true) {
      return undefined;
    }
    return active;
  }
}

/** Adds the `lock.at_risk` event to a hold span. */
export function spanAtRisk(span: Span, remainingMs: number, cause: unknown): void {
  span.addEvent(
    'lock.at_risk',
    {
      [LockAttributes.REMAINING_VALIDITY]: remainingMs / 1000,
      [LockAttributes.ERROR_TYPE]: errorType(cause),
    },
    epochNow(),
  );
}

/** Adds the `lock.lost` event to a hold span (it is then ended as an error). */
export function spanLost(
  span: Span,
  reason: LostReason,
  sinceLastRenewalMs: number,
  beforeValidityEndMs: number,
): void {
  span.addEvent(
    'lock.lost',
    {
      [LockAttributes.LOSS_REASON]: reason,
      [LockAttributes.LOSS_DETECTION]: sinceLastRenewalMs / 1000,
      [LockAttributes.REMAINING_VALIDITY]: beforeValidityEndMs / 1000,
    },
    epochNow(),
  );
}

/** Ends a hold span: `renewals` confirmed, ended by `end` (an error unless released). */
export function endHoldSpan(
  span: Span,
  end: HoldEnd | 'unobserved',
  renewals: number,
  detail?: string,
): void {
  const attributes: Attributes = { [LockAttributes.RENEWALS]: renewals };
  if (end !== 'unobserved') attributes[LockAttributes.HOLD_END] = end;
  span.setAttributes(attributes);
  if (end === 'lost' || end === 'release_failed') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: detail ?? end });
  }
  span.end(epochNow());
}

/** The `code` of a `LockError` (core's error codes), else the error's name. */
function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return 'unknown';
}
