/**
 * The names, units and attributes of everything `@lock/otel` reports, in OpenTelemetry's
 * semantic-convention style: a `lock.*` namespace, durations in seconds, counts of discrete
 * things with a `{thing}` annotation as their unit, pluralised counter names, no `total`.
 * @module
 */

/** Attribute names on lock metrics and spans. */
export const LockAttributes = {
  /** The backend's name (`locker.backend.name`: `redis`, `etcd`, `memcached`, `local`, …). On every metric and span. */
  SYSTEM_NAME: 'lock.system.name',
  /** The lock's key, or what the `keys` option maps it to. Only when the `keys` option records it. */
  KEY: 'lock.key',
  /** Whether the acquisition had to wait for another holder (`true`) or got the key at once. Granted acquisitions only. */
  CONTENDED: 'lock.contended',
  /** How a hold ended: `released`, `lost`, or `release_failed` (the release got no reply; the lock runs out by its TTL). */
  HOLD_END: 'lock.hold.end',
  /** Why a lock was lost: `expired`, `refused`, `released-elsewhere` or `session-closed` (core's `LostReason`). */
  LOSS_REASON: 'lock.loss.reason',
  /** Whether the loss was noticed only after the lock's certain validity had ended (a blocked event loop, a late timer). */
  LOSS_LATE: 'lock.loss.late',
  /** The failed backend call: `acquire`, `extend`, `renew`, `release`, `inspect` or `close`. */
  OPERATION_NAME: 'lock.operation.name',
  /**
   * The error's code (core's `LockErrorCode`, such as `BACKEND` or `TIMEOUT`), per the `error.type`
   * convention: on `lock.errors`, and on `lock.acquire.duration` for calls that ended without the lock.
   */
  ERROR_TYPE: 'error.type',
  /** Span only: the lock's fencing token. */
  FENCE: 'lock.fence',
  /** Span only: the lock's TTL in seconds. */
  TTL: 'lock.ttl',
  /** Span only: the attempts an acquire call made (a fair queue's wait counts as one). */
  ATTEMPTS: 'lock.acquire.attempts',
  /** Span event only (`lock.acquire.denied`): the public identity of the holder an attempt found, when the backend tells. */
  HOLDER: 'lock.holder',
  /** Span event only (`lock.acquire.denied`): seconds the holder's lock had left, when the backend tells. */
  HOLDER_REMAINING: 'lock.holder.remaining',
  /** Span only: the renewals confirmed while the lock was held. */
  RENEWALS: 'lock.renewals',
  /** Span event only: seconds of certain validity left (at risk), or how long before it ended the loss was noticed (lost; negative when late). */
  REMAINING_VALIDITY: 'lock.remaining_validity',
  /** Span event only: seconds from the last confirmed renewal (or the grant) to the moment the loss was noticed. */
  LOSS_DETECTION: 'lock.loss.detection',
} as const;

/** How one instrument is described: what the README's table lists. */
export interface InstrumentDescription {
  /** The instrument's name. */
  readonly name: string;
  /** The instrument's kind. */
  readonly kind: 'histogram' | 'counter' | 'updowncounter';
  /** UCUM unit, or a `{thing}` annotation for counts. */
  readonly unit: string;
  /** What it measures (the instrument's description metadata). */
  readonly description: string;
  /** Attributes besides `lock.system.name` and the optional `lock.key`. */
  readonly attributes: readonly string[];
}

const describe = (
  name: string,
  kind: InstrumentDescription['kind'],
  unit: string,
  description: string,
  attributes: readonly string[] = [],
): InstrumentDescription => ({ name, kind, unit, description, attributes });

/** Every instrument `@lock/otel` creates, by role. */
export const LockMetrics = {
  /** Histogram: from the `lock()`/`tryLock()` call to the grant, or to the moment it gave up. */
  ACQUIRE_DURATION: describe(
    'lock.acquire.duration',
    'histogram',
    's',
    'Time from a lock call to the grant (wait time), or to the moment the call ended without the lock (with error.type: TIMEOUT, ABORTED, CLOSED, BACKEND, ...).',
    [LockAttributes.CONTENDED, LockAttributes.ERROR_TYPE],
  ),
  /** Histogram: from the grant to the moment the release was sent, or to the moment the loss was noticed. */
  HOLD_DURATION: describe(
    'lock.hold.duration',
    'histogram',
    's',
    'Time a lock was held: from the grant to the moment its holder sent the release (released, release_failed), or to the moment its loss was noticed (lost).',
    [LockAttributes.HOLD_END],
  ),
  /** Histogram: from sending a release in this process to the grant of the same key to a call that was already waiting in this process. */
  HANDOFF_DURATION: describe(
    'lock.handoff.duration',
    'histogram',
    's',
    "Time from sending a holder's release to the grant of the same key to a call of this process that was already waiting.",
  ),
  /** Histogram: from the last confirmed renewal (or the grant) to the moment a loss was noticed. */
  LOSS_DETECTION_DURATION: describe(
    'lock.loss.detection.duration',
    'histogram',
    's',
    'Time from the last moment a lock was known held (its last confirmed renewal, or its grant) to the moment its loss was noticed: an upper bound on how long it was gone before this process knew.',
    [LockAttributes.LOSS_REASON],
  ),
  /** Histogram: how long before the end of its certain validity a loss was noticed. */
  LOSS_REMAINING_VALIDITY: describe(
    'lock.loss.remaining_validity',
    'histogram',
    's',
    'How long before the end of its certain validity a lost lock was declared lost (0 when only after it: see lock.loss.late on lock.losses).',
    [LockAttributes.LOSS_REASON],
  ),
  /** Histogram: from sending a renewal to its confirmation. */
  RENEWAL_DURATION: describe(
    'lock.renewal.duration',
    'histogram',
    's',
    'Round trip of a confirmed renewal (keepalive or extend): from sending it to its confirmation.',
  ),
  /** Counter: locks granted. */
  ACQUISITIONS: describe('lock.acquisitions', 'counter', '{acquisition}', 'Locks granted.', [
    LockAttributes.CONTENDED,
  ]),
  /** Counter: attempts the granted acquisitions took. */
  ATTEMPTS: describe(
    'lock.acquire.attempts',
    'counter',
    '{attempt}',
    'Attempts that granted acquisitions took (a fair queue wait counts as one attempt).',
  ),
  /** Counter: attempts that found the key held by someone else (contention on backends that poll or watch). */
  DENIALS: describe(
    'lock.acquire.denials',
    'counter',
    '{denial}',
    'Attempts that found the key held by someone else (fair-queue backends wait in line instead, and report contention as lock.contended=true on lock.acquisitions).',
  ),
  /** Counter: confirmed renewals. */
  RENEWALS: describe('lock.renewals', 'counter', '{renewal}', 'Confirmed renewals.'),
  /** Counter: times a held lock became at risk (a renewal failed while validity remained). */
  RISKS: describe(
    'lock.risks',
    'counter',
    '{risk}',
    'Times a held lock became at risk: a renewal failed while validity remained (the first stage of loss).',
  ),
  /** Counter: locks lost, by reason. */
  LOSSES: describe('lock.losses', 'counter', '{loss}', 'Held locks lost, by reason.', [
    LockAttributes.LOSS_REASON,
    LockAttributes.LOSS_LATE,
  ]),
  /** Counter: failed backend calls, by error code and operation. */
  ERRORS: describe(
    'lock.errors',
    'counter',
    '{error}',
    'Failed backend calls, by error code and operation.',
    [LockAttributes.ERROR_TYPE, LockAttributes.OPERATION_NAME],
  ),
  /** Up-down counter: locks held right now by the instrumented locker and its sessions. */
  HELD: describe(
    'lock.held.count',
    'updowncounter',
    '{lock}',
    'Locks held right now by the instrumented lockers and their sessions.',
  ),
} as const satisfies Record<string, InstrumentDescription>;

/** Span names. */
export const LockSpans = {
  /** One per acquire call that ended with the grant or gave up: from the call to its end. */
  ACQUIRE: 'lock.acquire',
  /** One per hold: from the grant to the release or loss, linked to its acquire span. */
  HOLD: 'lock.hold',
} as const;

/**
 * Bucket boundaries (seconds) advised for every duration histogram: 100 µs (an in-process
 * handoff) to an hour (a long hold). The SDK's default boundaries (0 to 10,000) assume
 * milliseconds and would put every lock wait in the first bucket.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  30, 60, 300, 900, 3600,
];
