import type { LockEventMap } from '@lock/core';
import {
  type Attributes,
  context,
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

/**
 * Makes the spans of one instrumentation: per granted acquisition, a `lock.acquire` span from
 * the call to the grant (made when the grant is reported: core's `acquired` event says how long
 * the call waited), and a `lock.hold` span from the grant to the release or loss, linked to it.
 * Both are children of the span active when the lock was granted.
 */
export class LockSpanMaker {
  readonly #tracer: Tracer;
  readonly #mode: SpanMode;

  constructor(tracer: Tracer, mode: SpanMode) {
    this.#tracer = tracer;
    this.#mode = mode;
  }

  /** Records the acquire span of `event` and starts its hold span (none, per the mode). */
  acquired(event: LockEventMap['acquired'], scope: KeyScope): Span | undefined {
    if (this.#mode === 'off') return undefined;
    const parent = context.active();
    // A parent that is not recording belongs to a trace that was not sampled: its children would
    // not be recorded either (with the SDK's parent-based sampling), so none are made.
    if (this.#mode === 'with-parent' && trace.getSpan(parent)?.isRecording() !== true) {
      return undefined;
    }
    const now = epochNow();
    const acquire = this.#tracer.startSpan(
      LockSpans.ACQUIRE,
      {
        startTime: now - event.waitMs,
        attributes: {
          ...scope.base,
          [LockAttributes.CONTENDED]: event.contended,
          [LockAttributes.ATTEMPTS]: event.attempts,
        },
      },
      parent,
    );
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
          [LockAttributes.FENCE]: event.lock.fence,
          [LockAttributes.TTL]: event.lock.ttlMs / 1000,
        },
        links: [{ context: acquire.spanContext() }],
      },
      parent,
    );
  }
}

/** Adds the `lock.at_risk` event to a hold span. */
export function spanAtRisk(span: Span, event: LockEventMap['at-risk']): void {
  span.addEvent(
    'lock.at_risk',
    {
      [LockAttributes.REMAINING_VALIDITY]: event.remainingMs / 1000,
      [LockAttributes.ERROR_TYPE]: errorType(event.cause),
    },
    epochNow(),
  );
}

/** Adds the `lock.lost` event to a hold span (it is then ended as an error). */
export function spanLost(span: Span, event: LockEventMap['lost']): void {
  span.addEvent(
    'lock.lost',
    {
      [LockAttributes.LOSS_REASON]: event.reason,
      [LockAttributes.LOSS_DETECTION]: event.sinceLastRenewalMs / 1000,
      [LockAttributes.REMAINING_VALIDITY]: event.beforeValidityEndMs / 1000,
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
