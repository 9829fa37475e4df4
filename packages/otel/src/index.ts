/**
 * `@lock/otel`: OpenTelemetry metrics and spans for `@lock/core` lockers.
 * @packageDocumentation
 */
export { instrument } from './instrument.js';
export {
  type InstrumentOptions,
  type KeyPolicy,
  type LockMetricProducerLike,
  MAX_RECORDED_KEYS,
  type SpanMode,
} from './options.js';
export { SCOPE_NAME } from './scope.js';
export {
  DURATION_BUCKETS_SECONDS,
  type InstrumentDescription,
  LockAttributes,
  LockMetrics,
  LockSpans,
} from './semconv.js';
