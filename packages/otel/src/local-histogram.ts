import type { Attributes } from '@opentelemetry/api';
import type { HistogramSeries } from './metric-sink.js';
import { DURATION_BUCKETS_SECONDS } from './semconv.js';

/**
 * The bucket boundaries. Plain arrays here and for the counts (doubles and small integers, packed):
 * on Node 20, a typed array's element access cost the two records of an uncontended pair about
 * 150 instructions more (counted under valgrind).
 */
const BOUNDARIES: readonly number[] = [...DURATION_BUCKETS_SECONDS];

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
  readonly counts: number[] = Array.from({ length: BOUNDARIES.length + 1 }, () => 0);
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
