import { InvalidArgumentError, type Locker } from '@lock/core';
import { metrics, trace } from '@opentelemetry/api';
import { KeyScopes } from './key-scope.js';
import { instrumentsOf } from './lock-instruments.js';
import { LockSpanMaker } from './lock-spans.js';
import { LockTelemetry } from './lock-telemetry.js';
import { SINK } from './metric-sink.js';
import { checkInstrumentOptions, type InstrumentOptions } from './options.js';
import { SCOPE_NAME, SCOPE_VERSION } from './scope.js';

/** Lockers instrumented now: a second `instrument()` would count every event twice. */
const instrumented = new WeakSet<Locker>();

/**
 * Reports `locker`'s lock events (and those of its sessions) as OpenTelemetry metrics and spans,
 * until the returned function is called. Metrics: wait (of granted and of failed calls), hold,
 * handoff, loss-detection and renewal histograms; acquisition, attempt, denial, renewal, risk,
 * loss and error counters; the number of locks held. Spans: `lock.acquire` per acquire call
 * (with its denied attempts) and `lock.hold` per hold, linked (see the README for every name, unit and attribute). Keys are recorded only as the
 * `keys` option says.
 *
 * Instrument the root locker only: its sessions report to the same listeners, and a session's
 * events reach its parent's, so instrumenting both would count twice.
 * @returns a function that stops reporting: it removes the listeners, ends the hold spans still
 * open and takes the locks still held out of `lock.held.count`; nothing is recorded afterwards.
 * @throws {InvalidArgumentError} for a bad option, or a locker that is already instrumented.
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * import { instrument } from '@lock/otel';
 *
 * const locker = await connect('redis://127.0.0.1:6379');
 * const stop = instrument(locker, { keys: (key) => key.split(':')[0] });
 * await locker.withLock('invoice:42', async () => {});
 * stop();
 * ```
 */
export function instrument(locker: Locker, options: InstrumentOptions = {}): () => void {
  checkLocker(locker);
  checkInstrumentOptions(options);
  if (instrumented.has(locker)) {
    throw new InvalidArgumentError(
      'locker',
      locker,
      'is already instrumented: call the function the first instrument() returned before instrumenting it again',
    );
  }
  const sink =
    options.metricProducer?.[SINK] ??
    instrumentsOf(
      (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME, SCOPE_VERSION),
    );
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
    SCOPE_NAME,
    SCOPE_VERSION,
  );
  const clock = locker.clock;
  const telemetry = new LockTelemetry(
    () => clock.now(),
    new KeyScopes(sink, locker.backend.name, options.keys),
    new LockSpanMaker(tracer, options.spans ?? 'with-parent'),
  );
  // Everything about held locks through the observer (the hot path: no event objects), the
  // events of calls through listeners.
  const stops = [
    locker.observe(telemetry),
    locker.on('acquire-failed', (event) => telemetry.acquireFailed(event)),
    locker.on('denied', (event) => telemetry.denied(event)),
    locker.on('backend-error', (event) => telemetry.backendError(event)),
  ];
  instrumented.add(locker);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    for (const stop of stops) stop();
    telemetry.stop();
    instrumented.delete(locker);
  };
}

function checkLocker(locker: unknown): asserts locker is Locker {
  const candidate = locker as Partial<Locker> | null;
  if (
    typeof locker !== 'object' ||
    candidate === null ||
    typeof candidate.on !== 'function' ||
    typeof candidate.observe !== 'function' ||
    typeof candidate.clock?.now !== 'function' ||
    typeof candidate.backend?.name !== 'string'
  ) {
    throw new InvalidArgumentError(
      'locker',
      locker,
      'must be a Locker from @lock/core (createLocker() or connect())',
    );
  }
}
