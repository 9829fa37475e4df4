import type {
  Attributes,
  BatchObservableResult,
  Histogram,
  Meter,
  Observable,
} from '@opentelemetry/api';
import { DURATION_BUCKETS_SECONDS, type InstrumentDescription, LockMetrics } from './semconv.js';

/**
 * A cumulative count for one attribute set, kept in memory and reported at collection time
 * through an observable instrument. Counting is then one property increment on the hot path:
 * a synchronous counter would hash the attribute set on every `add()` (about a microsecond
 * each on the benchmark machine, more than the whole budget for a lock's telemetry).
 */
export interface Tally {
  readonly attributes: Attributes;
  value: number;
}

/** The counters kept as tallies, by role. */
type TalliedRole =
  | 'ACQUISITIONS'
  | 'ATTEMPTS'
  | 'DENIALS'
  | 'RENEWALS'
  | 'RISKS'
  | 'LOSSES'
  | 'ERRORS'
  | 'HELD';

const TALLIED: readonly TalliedRole[] = [
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
 * The instruments of one meter, shared by every instrumentation on it: its histograms, and the
 * tallies behind its counters. Sharing matters for the observable ones: two lockers reporting
 * the same attribute set must add up, where two callbacks each observing their own count would
 * overwrite each other.
 */
export class LockInstruments {
  readonly acquireDuration: Histogram;
  readonly holdDuration: Histogram;
  readonly handoffDuration: Histogram;
  readonly lossDetectionDuration: Histogram;
  readonly lossRemainingValidity: Histogram;
  readonly renewalDuration: Histogram;
  readonly #tallies = new Map<TalliedRole, Map<string, Tally>>();

  constructor(meter: Meter) {
    const histogram = (description: InstrumentDescription) =>
      meter.createHistogram(description.name, {
        unit: description.unit,
        description: description.description,
        advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] },
      });
    this.acquireDuration = histogram(LockMetrics.ACQUIRE_DURATION);
    this.holdDuration = histogram(LockMetrics.HOLD_DURATION);
    this.handoffDuration = histogram(LockMetrics.HANDOFF_DURATION);
    this.lossDetectionDuration = histogram(LockMetrics.LOSS_DETECTION_DURATION);
    this.lossRemainingValidity = histogram(LockMetrics.LOSS_REMAINING_VALIDITY);
    this.renewalDuration = histogram(LockMetrics.RENEWAL_DURATION);
    const observables = new Map<TalliedRole, Observable>();
    for (const role of TALLIED) {
      const description = LockMetrics[role];
      const options = { unit: description.unit, description: description.description };
      observables.set(
        role,
        description.kind === 'updowncounter'
          ? meter.createObservableUpDownCounter(description.name, options)
          : meter.createObservableCounter(description.name, options),
      );
      this.#tallies.set(role, new Map());
    }
    meter.addBatchObservableCallback(
      (result) => this.#observe(result, observables),
      [...observables.values()],
    );
  }

  /**
   * The tally of counter `role` for `attributes` (made on first use). Callers keep the returned
   * object and increment it; only building it hashes the attribute set.
   */
  tally(role: TalliedRole, attributes: Attributes): Tally {
    const tallies = this.#tallies.get(role) as Map<string, Tally>;
    const id = attributeSetId(attributes);
    let tally = tallies.get(id);
    if (tally === undefined) {
      tally = { attributes, value: 0 };
      tallies.set(id, tally);
    }
    return tally;
  }

  #observe(result: BatchObservableResult, observables: Map<TalliedRole, Observable>): void {
    for (const [role, tallies] of this.#tallies) {
      const observable = observables.get(role) as Observable;
      for (const tally of tallies.values()) {
        result.observe(observable, tally.value, tally.attributes);
      }
    }
  }
}

const byMeter = new WeakMap<Meter, LockInstruments>();

/** The shared {@link LockInstruments} of `meter`. */
export function instrumentsOf(meter: Meter): LockInstruments {
  let instruments = byMeter.get(meter);
  if (instruments === undefined) {
    instruments = new LockInstruments(meter);
    byMeter.set(meter, instruments);
  }
  return instruments;
}

/** A stable identity for an attribute set, independent of key order. */
function attributeSetId(attributes: Attributes): string {
  return JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
}
