import type { Attributes } from '@opentelemetry/api';
import type { LockMetrics } from './semconv.js';

/** The histograms, by role (a key of {@link LockMetrics}). */
export type HistogramRole =
  | 'ACQUIRE_DURATION'
  | 'HOLD_DURATION'
  | 'HANDOFF_DURATION'
  | 'LOSS_DETECTION_DURATION'
  | 'LOSS_REMAINING_VALIDITY'
  | 'RENEWAL_DURATION';

/** The counters (and the up-down counter), by role (a key of {@link LockMetrics}). */
export type TalliedRole =
  | 'ACQUISITIONS'
  | 'ATTEMPTS'
  | 'DENIALS'
  | 'RENEWALS'
  | 'RISKS'
  | 'LOSSES'
  | 'ERRORS'
  | 'HELD';

/** Every histogram role. */
export const HISTOGRAM_ROLES: readonly HistogramRole[] = [
  'ACQUIRE_DURATION',
  'HOLD_DURATION',
  'HANDOFF_DURATION',
  'LOSS_DETECTION_DURATION',
  'LOSS_REMAINING_VALIDITY',
  'RENEWAL_DURATION',
];

/** Every tallied role. */
export const TALLIED_ROLES: readonly TalliedRole[] = [
  'ACQUISITIONS',
  'ATTEMPTS',
  'DENIALS',
  'RENEWALS',
  'RISKS',
  'LOSSES',
  'ERRORS',
  'HELD',
];

/**
 * A cumulative count for one attribute set, kept in memory and reported at collection time.
 * Counting is then one property increment on the hot path: a synchronous counter would hash the
 * attribute set on every `add()` (about a microsecond each on the benchmark machine, more than
 * the whole budget for a lock's telemetry).
 */
export interface Tally {
  readonly attributes: Attributes;
  value: number;
}

/** One histogram series: a histogram bound to one attribute set, built once and kept. */
export interface HistogramSeries {
  record(seconds: number): void;
}

/**
 * Where an instrumentation's metrics go: the series and tallies it keeps for each attribute set
 * (a meter's instruments, or a `LockMetricProducer`'s own aggregation). Asking twice for the same
 * role and attribute set gives the same tally, so lockers sharing a sink add up.
 */
export interface LockMetricSink {
  histogram(role: HistogramRole, attributes: Attributes): HistogramSeries;
  tally(role: TalliedRole, attributes: Attributes): Tally;
}

/**
 * The key under which a {@link LockMetricSink} is found on a `LockMetricProducer`. A registered
 * symbol: the producer's entry point and the main one are bundled apart, and must agree on it.
 */
export const SINK: unique symbol = Symbol.for('@lock/otel.metric-sink');

/** A stable identity for an attribute set, independent of key order. */
export function attributeSetId(attributes: Attributes): string {
  return JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The tallies of one sink, by role and attribute set, with when each was made. */
export class TallyTable {
  readonly #byRole = new Map<TalliedRole, Map<string, Tally>>();
  /** When each tally was made (`Date.now()`): the start of its cumulative count. */
  readonly startedAt = new WeakMap<Tally, number>();

  constructor() {
    for (const role of TALLIED_ROLES) this.#byRole.set(role, new Map());
  }

  /** The tally of `role` for `attributes`, made on first use. */
  tally(role: TalliedRole, attributes: Attributes): Tally {
    const tallies = this.#byRole.get(role) as Map<string, Tally>;
    const id = attributeSetId(attributes);
    let tally = tallies.get(id);
    if (tally === undefined) {
      tally = { attributes, value: 0 };
      tallies.set(id, tally);
      this.startedAt.set(tally, Date.now());
    }
    return tally;
  }

  /** Every tally of `role`. */
  of(role: TalliedRole): Iterable<Tally> {
    return (this.#byRole.get(role) as Map<string, Tally>).values();
  }
}
