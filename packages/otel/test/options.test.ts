import { describe, expect, it } from '@jest/globals';
import { createLocker, isLockError } from '@lock/core';
import { LocalBackend } from '@lock/local';
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { instrument } from '../src/index.js';
import { LockMetricProducer } from '../src/producer.js';
import { Telemetry } from './telemetry.js';

/** The error `call` throws. */
function thrown(call: () => unknown): Error & { argument?: string } {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
}

describe('instrument() checks what it is given', () => {
  const locker = createLocker(new LocalBackend());

  it.each([
    [{ keys: 'invoice' }, 'options.keys', /array or Set of key strings, or a function/],
    [{ keys: [1] }, 'options.keys', /array or Set of key strings/],
    [{ keys: new Set([null]) }, 'options.keys', /array or Set of key strings/],
    [{ spans: 'sometimes' }, 'options.spans', /must be one of with-parent, always, off, got/],
    [{ meterProvider: {} }, 'options.meterProvider', /OpenTelemetry provider with getMeter/],
    [{ tracerProvider: 42 }, 'options.tracerProvider', /OpenTelemetry provider with getTracer/],
    [
      { keyz: [] },
      'options.keyz',
      /is not a known option \(known: meterProvider, metricProducer, tracerProvider, keys, spans\)/,
    ],
    [
      { metricProducer: new MeterProvider() },
      'options.metricProducer',
      /must be a LockMetricProducer from @lock\/otel\/producer/,
    ],
    [
      { metricProducer: new LockMetricProducer(), meterProvider: new MeterProvider() },
      'options.meterProvider',
      /cannot be given with options.metricProducer: metrics go to one or the other/,
    ],
  ])('%j is refused, naming %s', (options, argument, rule) => {
    const error = thrown(() => instrument(locker, options as never));
    expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(error.argument).toBe(argument);
    expect(error.message).toMatch(rule);
  });

  it('refuses what is not a locker', () => {
    for (const value of [undefined, null, {}, { on: () => {} }]) {
      const error = thrown(() => instrument(value as never));
      expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(error.message).toMatch(/^locker must be a Locker from @lock\/core/);
    }
  });

  it('reports to the global providers when given none', async () => {
    const telemetry = new Telemetry();
    metrics.setGlobalMeterProvider(telemetry.meterProvider);
    trace.setGlobalTracerProvider(telemetry.tracerProvider);
    try {
      const stop = instrument(locker, { keys: new Set(['a']), spans: 'always' });
      await (await locker.lock('a')).release();
      stop();
      await telemetry.collect();
      expect(telemetry.sum('lock.acquisitions', { 'lock.key': 'a' })).toBe(1);
      expect(telemetry.ended().map((span) => span.name)).toEqual(['lock.acquire', 'lock.hold']);
    } finally {
      metrics.disable();
      trace.disable();
      await locker.close();
      await telemetry.shutdown();
    }
  });
});
