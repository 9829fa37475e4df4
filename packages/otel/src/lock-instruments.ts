import type {
  Attributes,
  BatchObservableResult,
  Histogram,
  Meter,
  Observable,
} from '@opentelemetry/api';
import {
  HISTOGRAM_ROLES,
  type HistogramRole,
  type HistogramSeries,
  type LockMetricSink,
  TALLIED_ROLES,
  type TalliedRole,
  type Tally,
  TallyTable,
} from './metric-sink.js';
import { DURATION_BUCKETS_SECONDS, LockMetrics } from './semconv.js';

/** A histogram of the meter bound to one attribute set (the SDK hashes the set on each record). */
class MeterSeries implements HistogramSeries {
  readonly #histogram: Histogram;
  readonly #attributes: Attributes;

  constructor(histogram: Histogram, attributes: Attributes) {
    this.#histogram = histogram;
    this.#attributes = attributes;
  }

  record(seconds: number): void {
    this.#histogram.record(seconds, this.#attributes);
  }
}

/**
 * The instruments of one meter, shared by every instrumentation on it: its histograms, and the
 * tallies behind its counters, which observable instruments report at each collection. Sharing
 * matters for the observable ones: two lockers reporting the same attribute set must add up,
 * where two callbacks each observing their own count would overwrite each other.
 */
export class LockInstruments implements LockMetricSink {
  readonly #histograms = new Map<HistogramRole, Histogram>();
  readonly #tallies = new TallyTable();

  constructor(meter: Meter) {
    for (const role of HISTOGRAM_ROLES) {
      const description = LockMetrics[role];
      this.#histograms.set(
        role,
        meter.createHistogram(description.name, {
          unit: description.unit,
          description: description.description,
          advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] },
        }),
      );
    }
    const observables = new Map<TalliedRole, Observable>();
    for (const role of TALLIED_ROLES) {
      const description = LockMetrics[role];
      const options = { unit: description.unit, description: description.description };
      observables.set(
        role,
        description.kind === 'updowncounter'
          ? meter.createObservableUpDownCounter(description.name, options)
          : meter.createObservableCounter(description.name, options),
      );
    }
    meter.addBatchObservableCallback(
      (result) => this.#observe(result, observables),
      [...observables.values()],
    );
  }

  histogram(role: HistogramRole, attributes: Attributes): HistogramSeries {
    return new MeterSeries(this.#histograms.get(role) as Histogram, attributes);
  }

  tally(role: TalliedRole, attributes: Attributes): Tally {
    return this.#tallies.tally(role, attributes);
  }

  #observe(result: BatchObservableResult, observables: Map<TalliedRole, Observable>): void {
    for (const [role, observable] of observables) {
      for (const tally of this.#tallies.of(role)) {
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
