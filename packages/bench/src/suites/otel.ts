import { connect, type Locker } from '@lock/core';
import { instrument } from '@lock/otel';
import { LockMetricProducer } from '@lock/otel/producer';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { LockAdapter, Suite } from '../adapter.js';
import { ourAdapter } from '../adapters/ours.js';
import { startRedis } from './servers.js';

/** Rounds per variant (adapters take turns each round; medians are reported). */
const ROUNDS = Number(process.env['BENCH_OTEL_ROUNDS'] ?? 7);
/** Rounds of the `otel-cost` suite: enough for a 95% interval of a few percent on paired ratios. */
const COST_ROUNDS = Number(process.env['BENCH_OTEL_COST_ROUNDS'] ?? 100);
/** Each `otel-cost` measurement's length: short, so that many rounds fit in a few minutes. */
const COST_DURATION_MS = 500;

/** A metric exporter that drops what it gets: the SDK's collection cost without an exporter's I/O. */
const discardMetrics: PushMetricExporter = {
  export: (_metrics, done) => done({ code: 0 }),
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** A span exporter that drops what it gets. */
const discardSpans: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
};

/**
 * The cost of `@lock/otel` on @lock/redis's uncontended pair: one redis-server, and the same
 * fair-mode locker set up several ways, measured in turns so that the machine's drift hits all
 * alike. Each variant has its own SDK, which collects every second (60 times the SDK's default
 * rate, so that collection is part of what is measured).
 *
 * With `'local'` (the `otel-local` suite), the same columns on @lock/local: no server and no
 * I/O, so the client CPU per pair is all lock, events and telemetry, and what a column adds is
 * read in microseconds without redis-server and the network stack sharing the cores.
 *
 * With `'cost'` (the `otel-cost` suite), only the two columns the cost target is about (no
 * listeners; producer metrics with the default spans), in many short rounds,
 * so that the report's paired ratios bound a difference of a few percent.
 */
export async function otelSuite(
  on: 'redis' | 'local' = 'redis',
  columns: 'all' | 'cost' = 'all',
): Promise<Suite> {
  const server = on === 'redis' ? await startRedis() : { url: 'local:', stop: async () => {} };
  const providers: { shutdown(): Promise<void> }[] = [];
  const meterProvider = (producer?: LockMetricProducer) => {
    const provider = new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: discardMetrics,
          exportIntervalMillis: 1_000,
          metricProducers: producer === undefined ? [] : [producer],
        }),
      ],
    });
    providers.push(provider);
    return provider;
  };
  /** A LockMetricProducer read by its own SDK (collecting every second, as the meter's). */
  const metricProducer = () => {
    const producer = new LockMetricProducer();
    meterProvider(producer);
    return producer;
  };
  const tracerProvider = (ratio: number) => {
    const provider = new BasicTracerProvider({
      sampler: new TraceIdRatioBasedSampler(ratio),
      spanProcessors: [new BatchSpanProcessor(discardSpans, { maxQueueSize: 65_536 })],
    });
    providers.push(provider);
    return provider;
  };
  const variant = async (name: string, setup: (locker: Locker) => void): Promise<LockAdapter> => {
    const locker = await connect(server.url, { ttl: 10_000 });
    setup(locker);
    return ourAdapter(name, locker);
  };
  // The column the cost target is about, in both the otel and otel-cost suites.
  const producerMetrics = () =>
    variant('producer metrics', (locker) =>
      instrument(locker, { metricProducer: metricProducer(), tracerProvider: tracerProvider(1) }),
    );
  const redisNote =
    '@lock/redis (fair, the default) on one redis-server 7.0.15; every column is the same locker set up differently';
  const teardown = async () => {
    await Promise.all(providers.map((provider) => provider.shutdown()));
    await server.stop();
  };
  if (columns === 'cost') {
    const adapters = [await variant('no listeners', () => {}), await producerMetrics()];
    return {
      name: 'otel-cost',
      notes: [
        redisNote,
        `${COST_ROUNDS} rounds of ${COST_DURATION_MS} ms, the columns taking turns in each; read the paired ratios below the table`,
        'metrics: a LockMetricProducer read by @opentelemetry/sdk-metrics 2.12.1 collecting every second into a discarding exporter; the default spans (with-parent) with a tracer provider registered, outside any trace',
        'client CPU µs per pair is this process’s user + system time divided by pairs',
      ],
      adapters,
      rounds: COST_ROUNDS,
      durationMs: COST_DURATION_MS,
      teardown,
    };
  }
  const adapters = [
    await variant('no listeners', () => {}),
    await variant('instrumented, then stopped', (locker) =>
      instrument(locker, { meterProvider: meterProvider() })(),
    ),
    // The global providers, with no SDK registered: no-ops. What @lock/otel and core's events
    // cost by themselves, the SDK's recording aside.
    await variant('instrumented, no SDK registered', (locker) => instrument(locker)),
    // The default spans ('with-parent') in every column below but one: no trace is active, so
    // none are made, but each lock looks for an active span.
    await variant('meter metrics (keys not recorded)', (locker) =>
      instrument(locker, { meterProvider: meterProvider(), tracerProvider: tracerProvider(1) }),
    ),
    await producerMetrics(),
    await variant('producer metrics, spans off', (locker) =>
      instrument(locker, { metricProducer: metricProducer(), spans: 'off' }),
    ),
    await variant('producer metrics + spans always, 1% sampled', (locker) =>
      instrument(locker, {
        metricProducer: metricProducer(),
        tracerProvider: tracerProvider(0.01),
        spans: 'always',
      }),
    ),
    await variant('producer metrics + spans always, all sampled', (locker) =>
      instrument(locker, {
        metricProducer: metricProducer(),
        tracerProvider: tracerProvider(1),
        spans: 'always',
      }),
    ),
  ];
  return {
    name: on === 'redis' ? 'otel' : 'otel-local',
    notes: [
      on === 'redis'
        ? redisNote
        : '@lock/local (in-process, no I/O); every column is the same locker set up differently',
      `${ROUNDS} rounds, the columns taking turns in each; every figure is the median of its rounds`,
      'metrics: @opentelemetry/sdk-metrics 2.12.1 collecting every second into a discarding exporter, recorded through a meter or aggregated by a LockMetricProducer the reader collects; spans: sdk-trace-base 2.12.1, batch processor, discarding exporter',
      'client CPU µs per pair is this process’s user + system time divided by pairs: the steadier measure on a shared machine (redis-server runs on the same two cores)',
    ],
    adapters,
    rounds: ROUNDS,
    teardown,
  };
}
