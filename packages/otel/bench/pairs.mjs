// Uncontended acquire + release pairs on @lock/local, `--inflight` at a time (each on its own key,
// as `pnpm bench otel-local` runs them), with the locker set up one way, for counting what events
// and telemetry add per pair: CPU time here, or instructions under valgrind (run it with two
// `--pairs` counts and divide the difference). Runs the built packages.
//
//   node bench/pairs.mjs [--variant none|stopped|empty-listeners|empty-observer|no-sdk|producer|producer-spans-off
//                                  |meter]
//                        [--pairs N] [--warmup N] [--inflight N] [--rounds R] [--collect-ms MS]
//                        [--redis redis://127.0.0.1:6379]   (the pair on @lock/redis instead)
//
// Each variant's SDK collects every second into a discarding exporter, as the bench suite's do.
import { createLocker } from '@lock/core';
import { LocalBackend } from '@lock/local';
import { instrument } from '@lock/otel';
import { LockMetricProducer } from '@lock/otel/producer';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((part) => part.trim().split(/\s+/)),
);
const variant = args.variant ?? 'producer';
const pairs = Number(args.pairs ?? 10_000);
const warmup = Number(args.warmup ?? 5_000);
const inFlight = Number(args.inflight ?? 50);
const rounds = Number(args.rounds ?? 1);
/** How often the SDK collects (under valgrind, pass the SDK's default 60000: collection runs by wall time). */
const collectMs = Number(args['collect-ms'] ?? 1_000);

const discard = {
  export: (_metrics, done) => done({ code: 0 }),
  forceFlush: async () => {},
  shutdown: async () => {},
};
const providers = [];
function meterProvider(producer) {
  const provider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: discard,
        exportIntervalMillis: collectMs,
        metricProducers: producer === undefined ? [] : [producer],
      }),
    ],
  });
  providers.push(provider);
  return provider;
}
function producer() {
  const made = new LockMetricProducer();
  meterProvider(made);
  return made;
}
function tracerProvider() {
  const provider = new BasicTracerProvider();
  providers.push(provider);
  return provider;
}

const backend =
  args.redis === undefined
    ? new LocalBackend()
    : new (await import('@lock/redis')).RedisBackend({
        url: args.redis,
        checkEvictionPolicy: false,
      });
const locker = createLocker(backend, { ttl: 10_000 });
if (variant === 'stopped') instrument(locker, { meterProvider: meterProvider() })();
else if (variant === 'no-sdk') instrument(locker);
else if (variant === 'producer')
  instrument(locker, { metricProducer: producer(), tracerProvider: tracerProvider() });
else if (variant === 'producer-spans-off')
  instrument(locker, { metricProducer: producer(), spans: 'off' });
else if (variant === 'meter')
  instrument(locker, { meterProvider: meterProvider(), tracerProvider: tracerProvider() });
else if (variant === 'empty-listeners') {
  for (const name of ['acquired', 'released']) locker.on(name, () => {});
} else if (variant === 'empty-observer') {
  locker.observe({ acquired: () => undefined, released: () => {} });
} else if (variant !== 'none') throw new Error(`unknown variant ${variant}`);

async function run(n) {
  let left = n;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, i) => {
      const key = `pair:${i}`;
      while (left > 0) {
        left -= 1;
        const lock = await locker.lock(key, { ttl: 10_000, timeout: 10_000 });
        await lock.release();
      }
    }),
  );
}

await run(warmup);
const cpu = [];
for (let round = 0; round < rounds; round++) {
  const before = process.cpuUsage();
  await run(pairs);
  const used = process.cpuUsage(before);
  cpu.push((used.user + used.system) / pairs);
}
if (rounds > 1) {
  const sorted = [...cpu].sort((a, b) => a - b);
  console.log(
    `${variant}: CPU µs/pair median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} (min ${sorted[0].toFixed(2)}, max ${sorted.at(-1).toFixed(2)}, ${rounds} rounds of ${pairs})`,
  );
}
await locker.close();
await Promise.all(providers.map((provider) => provider.shutdown()));
