import type { LockErrorCode, LostReason } from '@lock/core';
import { type Attributes, diag } from '@opentelemetry/api';
import type { HistogramSeries, LockMetricSink, Tally } from './metric-sink.js';
import { type KeyPolicy, MAX_RECORDED_KEYS } from './options.js';
import { LockAttributes } from './semconv.js';

/** How a hold ended, as the `lock.hold.end` attribute. */
export type HoldEnd = 'released' | 'lost' | 'release_failed';

/** The series and tally a loss is recorded in. */
export interface LossRecord {
  /** `lock.loss.detection.duration` for the reason. */
  readonly detection: HistogramSeries;
  /** `lock.loss.remaining_validity` for the reason. */
  readonly remaining: HistogramSeries;
  /** `lock.losses` for the reason and lateness. */
  readonly tally: Tally;
}

/**
 * The attribute sets, histogram series and tallies of one recorded key value (or of "no key"),
 * built once, so that recording an event allocates nothing and looks nothing up by attributes.
 */
export class KeyScope {
  /** `lock.system.name` (and `lock.key` when recorded). */
  readonly base: Attributes;
  /** `lock.acquire.duration` of granted calls, indexed by `Number(contended)`. */
  readonly waits: readonly [HistogramSeries, HistogramSeries];
  /** `lock.hold.duration`, by how the hold ended. */
  readonly holds: Readonly<Record<HoldEnd, HistogramSeries>>;
  readonly handoffs: HistogramSeries;
  readonly renewalTimes: HistogramSeries;
  /** `lock.acquisitions`, indexed by `Number(contended)`. */
  readonly acquisitions: readonly [Tally, Tally];
  readonly attempts: Tally;
  readonly denials: Tally;
  readonly renewals: Tally;
  readonly risks: Tally;
  readonly held: Tally;
  /** Holds of this instrumentation counted in {@link KeyScope.held} now (the tally may be shared). */
  heldHere = 0;
  readonly #sink: LockMetricSink;
  readonly #failedWaits = new Map<LockErrorCode, HistogramSeries>();
  readonly #losses = new Map<string, LossRecord>();
  readonly #errors = new Map<string, Tally>();

  constructor(sink: LockMetricSink, systemName: string, key: string | undefined) {
    this.#sink = sink;
    const base: Attributes = { [LockAttributes.SYSTEM_NAME]: systemName };
    if (key !== undefined) base[LockAttributes.KEY] = key;
    this.base = base;
    const byContention: [Attributes, Attributes] = [
      { ...base, [LockAttributes.CONTENDED]: false },
      { ...base, [LockAttributes.CONTENDED]: true },
    ];
    this.waits = [
      sink.histogram('ACQUIRE_DURATION', byContention[0]),
      sink.histogram('ACQUIRE_DURATION', byContention[1]),
    ];
    const holdSeries = (end: HoldEnd) =>
      sink.histogram('HOLD_DURATION', { ...base, [LockAttributes.HOLD_END]: end });
    this.holds = {
      released: holdSeries('released'),
      lost: holdSeries('lost'),
      release_failed: holdSeries('release_failed'),
    };
    this.handoffs = sink.histogram('HANDOFF_DURATION', base);
    this.renewalTimes = sink.histogram('RENEWAL_DURATION', base);
    this.acquisitions = [
      sink.tally('ACQUISITIONS', byContention[0]),
      sink.tally('ACQUISITIONS', byContention[1]),
    ];
    this.attempts = sink.tally('ATTEMPTS', base);
    this.denials = sink.tally('DENIALS', base);
    this.renewals = sink.tally('RENEWALS', base);
    this.risks = sink.tally('RISKS', base);
    this.held = sink.tally('HELD', base);
  }

  /** `lock.acquire.duration` of calls that gave up with `code`: the base plus `error.type`. */
  failedWaits(code: LockErrorCode): HistogramSeries {
    let series = this.#failedWaits.get(code);
    if (series === undefined) {
      series = this.#sink.histogram('ACQUIRE_DURATION', {
        ...this.base,
        [LockAttributes.ERROR_TYPE]: code,
      });
      this.#failedWaits.set(code, series);
    }
    return series;
  }

  /**
   * For a loss: the loss histograms' series (base + reason) and the tally of `lock.losses`
   * (base + reason + late).
   */
  loss(reason: LostReason, late: boolean): LossRecord {
    const id = `${reason}|${late}`;
    let loss = this.#losses.get(id);
    if (loss === undefined) {
      const attributes = { ...this.base, [LockAttributes.LOSS_REASON]: reason };
      const other = this.#losses.get(`${reason}|${!late}`);
      loss = {
        detection: other?.detection ?? this.#sink.histogram('LOSS_DETECTION_DURATION', attributes),
        remaining: other?.remaining ?? this.#sink.histogram('LOSS_REMAINING_VALIDITY', attributes),
        tally: this.#sink.tally('LOSSES', { ...attributes, [LockAttributes.LOSS_LATE]: late }),
      };
      this.#losses.set(id, loss);
    }
    return loss;
  }

  /** The tally of `lock.errors` for `code` and `operation`. */
  error(code: LockErrorCode, operation: string): Tally {
    const id = `${code}|${operation}`;
    let tally = this.#errors.get(id);
    if (tally === undefined) {
      tally = this.#sink.tally('ERRORS', {
        ...this.base,
        [LockAttributes.ERROR_TYPE]: code,
        [LockAttributes.OPERATION_NAME]: operation,
      });
      this.#errors.set(id, tally);
    }
    return tally;
  }
}

/**
 * Finds the {@link KeyScope} of a lock key under a {@link KeyPolicy}: the shared "no key" scope
 * unless the policy records the key, then one scope per recorded value, at most
 * {@link MAX_RECORDED_KEYS} of them.
 */
export class KeyScopes {
  /** The scope of keys recorded without `lock.key`. */
  readonly unkeyed: KeyScope;
  readonly #recorded = new Map<string, KeyScope>();
  readonly #valueOf: ((key: string) => string | undefined) | undefined;
  readonly #sink: LockMetricSink;
  readonly #systemName: string;
  #warned = false;

  constructor(sink: LockMetricSink, systemName: string, policy: KeyPolicy | undefined) {
    this.#sink = sink;
    this.#systemName = systemName;
    this.unkeyed = new KeyScope(sink, systemName, undefined);
    if (policy === undefined) this.#valueOf = undefined;
    else if (typeof policy === 'function') this.#valueOf = policy;
    else {
      const allowed = new Set(policy);
      this.#valueOf = (key) => (allowed.has(key) ? key : undefined);
    }
  }

  /** The scope `key` is recorded under (`key` may be undefined: a batch's error). */
  of(key: string | undefined): KeyScope {
    if (this.#valueOf === undefined || key === undefined) return this.unkeyed;
    const value = this.#valueOf(key);
    if (typeof value !== 'string') return this.unkeyed;
    let scope = this.#recorded.get(value);
    if (scope === undefined) {
      if (this.#recorded.size >= MAX_RECORDED_KEYS) {
        if (!this.#warned) {
          this.#warned = true;
          diag.warn(
            `@lock/otel: the keys option produced more than ${MAX_RECORDED_KEYS} distinct lock.key values; further ones are recorded without lock.key (map keys to fewer values)`,
          );
        }
        return this.unkeyed;
      }
      scope = new KeyScope(this.#sink, this.#systemName, value);
      this.#recorded.set(value, scope);
    }
    return scope;
  }

  /** Every scope made so far. */
  *all(): Iterable<KeyScope> {
    yield this.unkeyed;
    yield* this.#recorded.values();
  }
}
