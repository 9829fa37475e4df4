import { connect } from '@lock/core';
import { instrument } from '@lock/otel';
import { LockMetricProducer } from '@lock/otel/producer';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

const lockMetrics = new LockMetricProducer();
const meterProvider = new MeterProvider({
  readers: [
    new PeriodicExportingMetricReader({
      exporter: new ConsoleMetricExporter(),
      metricProducers: [lockMetrics], // each reader that should see lock metrics
    }),
  ],
});
const locker = await connect('local:');
const stop = instrument(locker, { metricProducer: lockMetrics });

await (await locker.lock('report')).release();
stop();
await locker.close();
await meterProvider.shutdown(); // prints the lock.* metrics, as with a meter
