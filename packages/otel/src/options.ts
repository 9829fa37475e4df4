import { checkOptions, InvalidArgumentError } from '@lock/core';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { type LockMetricSink, SINK } from './metric-sink.js';

/**
 * Which lock keys are recorded as the `lock.key` attribute. Keys are often high-cardinality
 * (`invoice:81723`) and may be personal data, so none is recorded unless you ask:
 * - a list (or set) of keys to record as they are; any other key is recorded without `lock.key`;
 * - a function from a key to the value to record (`(key) => key.split(':')[0]` records
 *   `invoice` for `invoice:81723`), or `undefined` to record it without `lock.key`.
 *
 * At most {@link MAX_RECORDED_KEYS} distinct values are recorded per instrumentation; keys that
 * would add more are recorded without `lock.key` (and a diagnostic warning says so once).
 */
export type KeyPolicy =
  | readonly string[]
  | ReadonlySet<string>
  | ((key: string) => string | undefined);

/**
 * When spans are made:
 * - `'with-parent'`: only for locks taken while a span is active (inside a traced request or
 *   job), as children of that span. Locks taken outside any trace make no spans, which keeps a
 *   busy lock loop from flooding the trace backend with root spans.
 * - `'always'`: for every lock, as root spans when no span is active.
 * - `'off'`: never.
 */
export type SpanMode = 'with-parent' | 'always' | 'off';

/**
 * A `LockMetricProducer` from `@lock/otel/producer`, as {@link InstrumentOptions.metricProducer}
 * takes it (its one member is not part of the API).
 */
export interface LockMetricProducerLike {
  /** @internal */
  readonly [SINK]: LockMetricSink;
}

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /**
   * Where metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`), a no-op until an SDK registers one
   */
  readonly meterProvider?: MeterProvider;
  /**
   * Aggregate metrics in this process instead, and hand them to the SDK's readers when they
   * collect: a `LockMetricProducer` from `@lock/otel/producer`, also given to the readers as one
   * of their `metricProducers`. The same metrics at a fraction of the recording cost, without
   * the SDK's views and in cumulative temporality only (see `LockMetricProducer`). Not with
   * `meterProvider`.
   * @default none: metrics are recorded through the meter provider
   * @example
   * ```ts
   * const lockMetrics = new LockMetricProducer();
   * new PeriodicExportingMetricReader({ exporter, metricProducers: [lockMetrics] });
   * instrument(locker, { metricProducer: lockMetrics });
   * ```
   */
  readonly metricProducer?: LockMetricProducerLike;
  /**
   * Where spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`), a no-op until an SDK registers one
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Which keys are recorded as `lock.key` on metrics and spans (see {@link KeyPolicy}).
   * @default none
   * @example
   * ```ts
   * instrument(locker, { keys: ['nightly-report', 'billing'] });
   * instrument(locker, { keys: (key) => key.replace(/:\d+$/, ':*') }); // invoice:81723 → invoice:*
   * ```
   */
  readonly keys?: KeyPolicy;
  /**
   * When spans are made (see {@link SpanMode}).
   * @default 'with-parent'
   */
  readonly spans?: SpanMode;
}

/** Most distinct `lock.key` values one instrumentation records. */
export const MAX_RECORDED_KEYS = 1000;

const OPTION_NAMES = [
  'meterProvider',
  'metricProducer',
  'tracerProvider',
  'keys',
  'spans',
] as const;
const SPAN_MODES: readonly SpanMode[] = ['with-parent', 'always', 'off'];

/** Throws an `InvalidArgumentError` naming the option, its value and the rule it breaks. */
export function checkInstrumentOptions(options: InstrumentOptions): void {
  checkOptions(options, 'options', OPTION_NAMES);
  if (options.meterProvider !== undefined) {
    checkHasMethod(options.meterProvider, 'options.meterProvider', 'getMeter');
  }
  if (options.metricProducer !== undefined) {
    const producer: unknown = options.metricProducer;
    if (
      typeof producer !== 'object' ||
      producer === null ||
      typeof (producer as Partial<LockMetricProducerLike>)[SINK] !== 'object'
    ) {
      throw new InvalidArgumentError(
        'options.metricProducer',
        producer,
        'must be a LockMetricProducer from @lock/otel/producer',
      );
    }
    if (options.meterProvider !== undefined) {
      throw new InvalidArgumentError(
        'options.meterProvider',
        options.meterProvider,
        'cannot be given with options.metricProducer: metrics go to one or the other',
      );
    }
  }
  if (options.tracerProvider !== undefined) {
    checkHasMethod(options.tracerProvider, 'options.tracerProvider', 'getTracer');
  }
  const keys: unknown = options.keys;
  if (
    keys !== undefined &&
    typeof keys !== 'function' &&
    !(
      (Array.isArray(keys) || keys instanceof Set) &&
      [...(keys as Iterable<unknown>)].every((key) => typeof key === 'string')
    )
  ) {
    throw new InvalidArgumentError(
      'options.keys',
      keys,
      'must be an array or Set of key strings, or a function from a key to the value to record',
    );
  }
  if (options.spans !== undefined && !SPAN_MODES.includes(options.spans)) {
    throw new InvalidArgumentError(
      'options.spans',
      options.spans,
      `must be one of ${SPAN_MODES.join(', ')}`,
    );
  }
}

function checkHasMethod(value: unknown, name: string, method: string): void {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Record<string, unknown>)[method] !== 'function'
  ) {
    throw new InvalidArgumentError(
      name,
      value,
      `must be an OpenTelemetry provider with ${method}()`,
    );
  }
}
