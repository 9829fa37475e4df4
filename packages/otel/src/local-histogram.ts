import type { Attributes } from '@opentelemetry/api';
import type { HistogramSeries } from './metric-sink.js';
import { DURATION_BUCKETS_SECONDS } from './semconv.js';

/** The bucket boundaries, as a typed array for the binary search. */
const BOUNDARIES = Float64Array.from(DURATION_BUCKETS_SECONDS);

/**
 * One histogram series aggregated here, exactly as the OpenTelemetry SDK's explicit-bucket
 * histogram aggregates it (count, sum, min, max; bucket `i` counts values in
 * `(boundaries[i - 1], boundaries[i]]`, the last one everything above), cumulatively from its
 * creation. Recording is a binary search and a few additions: no attribute set is hashed.
 */
export class LocalHistogram implements HistogramSeries {
  readonly attributes: Attributes;
  /** When the series was made (`Date.now()`): the start of its cumulative aggregation. */
  readonly startedAt: number;
  readonly counts = new Float64Array(BOUNDARIES.length + 1);
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(attributes: Attributes, startedAt: number) {
    this.attributes = attributes;
    this.startedAt = startedAt;
  }

  record(seconds: number): void {
    // As the SDK: NaN is not counted (negative values never come: callers clamp at 0).
    if (Number.isNaN(seconds)) return;
    let low = 0;
    let high = BOUNDARIES.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (seconds <= (BOUNDARIES[middle] as number)) high = middle;
      else low = middle + 1;
    }
    this.counts[low] = (this.counts[low] as number) + 1;
    this.count += 1;
    this.sum += seconds;
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
  }
}
