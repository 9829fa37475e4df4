import type { Attributes } from '@opentelemetry/api';
import {
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  type MetricData,
  MetricReader,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { InstrumentOptions } from '../src/index.js';
import { LockMetricProducer } from '../src/producer.js';

/** A metric reader that collects when asked (the SDK's pull path, as a Prometheus scrape). */
export class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** One histogram series as the SDK aggregated it. */
export interface HistogramPoint {
  readonly count: number;
  readonly sum: number;
  readonly min: number | undefined;
  readonly max: number | undefined;
}

/** How lock metrics reach the SDK: recorded through a meter, or aggregated by a `LockMetricProducer`. */
export type MetricsVia = 'meter' | 'producer';

/**
 * A real OpenTelemetry SDK setup with in-memory outputs: a meter provider read on demand and a
 * tracer provider exporting every ended span to memory. With `via: 'producer'`, the reader also
 * collects a `LockMetricProducer`, and {@link Telemetry.metricOptions} names it.
 */
export class Telemetry {
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: BasicTracerProvider;
  readonly spans = new InMemorySpanExporter();
  /** The instrument() options that send lock metrics here. */
  readonly metricOptions: Pick<InstrumentOptions, 'meterProvider' | 'metricProducer'>;
  readonly #reader: OnDemandReader;
  #metrics: MetricData[] = [];

  constructor(via: MetricsVia = 'meter') {
    const producer = via === 'producer' ? new LockMetricProducer() : undefined;
    this.#reader = new OnDemandReader({ metricProducers: producer ? [producer] : [] });
    this.meterProvider = new MeterProvider({ readers: [this.#reader] });
    this.metricOptions = producer
      ? { metricProducer: producer }
      : { meterProvider: this.meterProvider };
    this.tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(this.spans)],
    });
  }

  /** Collects now; the getters below read this collection. */
  async collect(): Promise<this> {
    const { resourceMetrics, errors } = await this.#reader.collect();
    if (errors.length > 0) throw errors[0];
    this.#metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    return this;
  }

  /** The collected metric `name`, or undefined if it was not reported. */
  metric(name: string): MetricData | undefined {
    return this.#metrics.find((metric) => metric.descriptor.name === name);
  }

  /** The sum (counter or up-down counter) of `name` over the points matching `attributes`. */
  sum(name: string, attributes: Attributes = {}): number {
    const metric = this.metric(name) as SumMetricData | undefined;
    if (metric === undefined) return 0;
    if (metric.dataPointType !== DataPointType.SUM) throw new Error(`${name} is not a sum`);
    return metric.dataPoints
      .filter((point) => matches(point.attributes, attributes))
      .reduce((total, point) => total + point.value, 0);
  }

  /** The histogram `name` merged over the points matching `attributes`. */
  histogram(name: string, attributes: Attributes = {}): HistogramPoint {
    const metric = this.metric(name) as HistogramMetricData | undefined;
    const points = (metric?.dataPoints ?? []).filter((point) =>
      matches(point.attributes, attributes),
    );
    if (metric !== undefined && metric.dataPointType !== DataPointType.HISTOGRAM) {
      throw new Error(`${name} is not a histogram`);
    }
    return {
      count: points.reduce((total, point) => total + point.value.count, 0),
      sum: points.reduce((total, point) => total + (point.value.sum ?? 0), 0),
      min:
        points.length === 0 ? undefined : Math.min(...points.map((p) => p.value.min ?? Infinity)),
      max:
        points.length === 0 ? undefined : Math.max(...points.map((p) => p.value.max ?? -Infinity)),
    };
  }

  /** The attribute sets reported for `name`. */
  attributeSets(name: string): Attributes[] {
    return (this.metric(name)?.dataPoints ?? []).map((point) => point.attributes);
  }

  /** Ended spans named `name`. */
  ended(name?: string): ReadableSpan[] {
    return this.spans.getFinishedSpans().filter((span) => name === undefined || span.name === name);
  }

  async shutdown(): Promise<void> {
    await this.meterProvider.shutdown();
    await this.tracerProvider.shutdown();
  }
}

function matches(actual: Attributes, wanted: Attributes): boolean {
  return Object.entries(wanted).every(([key, value]) => actual[key] === value);
}

/** Resolves once `condition()` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
