import { afterEach, describe, expect, it } from '@jest/globals';
import { createLocker, type Locker } from '@lock/core';
import { LocalBackend } from '@lock/local';
import {
  AggregationTemporality,
  DataPointType,
  type HistogramMetricData,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { DURATION_BUCKETS_SECONDS, instrument, SCOPE_NAME } from '../src/index.js';
import { SINK } from '../src/metric-sink.js';
import { LockMetricProducer } from '../src/producer.js';
import { OnDemandReader } from './telemetry.js';

const lockers: Locker[] = [];
const providers: MeterProvider[] = [];
afterEach(async () => {
  await Promise.all(lockers.splice(0).map((locker) => locker.close()));
  await Promise.all(providers.splice(0).map((provider) => provider.shutdown()));
});

/** A reader of `producer`, bound to a meter provider of its own (a reader collects only once bound). */
function readerOf(producer: LockMetricProducer): OnDemandReader {
  const reader = new OnDemandReader({ metricProducers: [producer] });
  providers.push(new MeterProvider({ readers: [reader] }));
  return reader;
}

/** The histogram point values of `name` a reader collected. */
async function histogramPoints(reader: OnDemandReader, name: string) {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === name) as HistogramMetricData | undefined;
  return metric?.dataPoints.map((point) => point.value);
}

describe('LockMetricProducer', () => {
  it("aggregates a histogram exactly as the SDK's explicit-bucket histogram does", async () => {
    const reader = new OnDemandReader();
    const provider = new MeterProvider({ readers: [reader] });
    providers.push(provider);
    const histogram = provider.getMeter('reference').createHistogram('lock.hold.duration', {
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] },
    });
    const producer = new LockMetricProducer();
    const attributes = { 'lock.system.name': 'test', 'lock.hold.end': 'released' };
    const series = producer[SINK].histogram('HOLD_DURATION', attributes);
    // Every boundary exactly, just above and below it, zero, the extremes, and NaN (not counted).
    const values = [0, 1e-9, 0.3, 7200, Number.NaN, Number.MAX_VALUE];
    for (const boundary of DURATION_BUCKETS_SECONDS) {
      values.push(boundary, boundary * (1 - 1e-12), boundary * (1 + 1e-12));
    }
    for (const value of values) {
      histogram.record(value, attributes);
      series.record(value);
    }
    const produced = await histogramPoints(readerOf(producer), 'lock.hold.duration');
    expect(produced).toEqual(await histogramPoints(reader, 'lock.hold.duration'));
    expect(produced?.[0]?.count).toBe(values.length - 1);
  });

  it('is what instrument() records into: lockers sharing it add up, and every reader sees all', async () => {
    const producer = new LockMetricProducer();
    const reader = readerOf(producer);
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const periodic = new PeriodicExportingMetricReader({
      exporter,
      metricProducers: [producer],
      exportIntervalMillis: 60_000,
    });
    providers.push(new MeterProvider({ readers: [periodic] }));
    for (let i = 0; i < 2; i++) {
      const locker = createLocker(new LocalBackend());
      lockers.push(locker);
      instrument(locker, { metricProducer: producer });
      for (const key of ['a', 'b', 'c']) await (await locker.lock(key)).release();
    }
    // Collecting changes nothing (cumulative, not delta): twice, the same totals.
    for (let collection = 0; collection < 2; collection++) {
      const { resourceMetrics } = await reader.collect();
      const metrics = resourceMetrics.scopeMetrics.find((s) => s.scope.name === SCOPE_NAME);
      const acquisitions = metrics?.metrics.find((m) => m.descriptor.name === 'lock.acquisitions');
      expect(acquisitions?.dataPointType).toBe(DataPointType.SUM);
      expect(acquisitions?.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
      const total = acquisitions?.dataPoints.reduce((sum, point) => sum + Number(point.value), 0);
      expect(total).toBe(6);
      const waits = metrics?.metrics.find((m) => m.descriptor.name === 'lock.acquire.duration');
      expect(waits?.descriptor.unit).toBe('s');
      expect(waits?.dataPoints).toHaveLength(1); // both lockers' uncontended waits, one series
    }
    await periodic.forceFlush();
    const exported = exporter.getMetrics().at(-1);
    const held = exported?.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((m) => m.descriptor.name === 'lock.hold.duration') as HistogramMetricData | undefined;
    expect(held?.dataPoints[0]?.value.count).toBe(6);
    for (const point of held?.dataPoints ?? []) {
      expect(point.startTime[0] * 1e9 + point.startTime[1]).toBeLessThanOrEqual(
        point.endTime[0] * 1e9 + point.endTime[1],
      );
    }
  });
});
