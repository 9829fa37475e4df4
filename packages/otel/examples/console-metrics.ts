import { connect } from '@lock/core';
import { instrument } from '@lock/otel';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

const meterProvider = new MeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter() })],
});
const locker = await connect(process.env['LOCK_URL'] ?? 'local:', { ttl: 5_000 });
const stop = instrument(locker, { meterProvider, keys: ['report'] });

// Ten calls contend for one key: each waits its turn, holds it ~5 ms, and hands it on.
await Promise.all(
  Array.from({ length: 10 }, () =>
    locker.withLock('report', () => new Promise((resolve) => setTimeout(resolve, 5))),
  ),
);

stop();
await locker.close();
await meterProvider.shutdown(); // a last export: prints every lock.* metric to the console
