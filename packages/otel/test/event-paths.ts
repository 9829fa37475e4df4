import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createLocker,
  isLockError,
  type LockBackend,
  type LockEventMap,
  type Locker,
} from '@lock/core';
import { type RunningServer, randomKey, randomNamespace, sleep } from '@lock/testkit';
import { context, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  SamplingDecision,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type InstrumentOptions, instrument, LockMetrics } from '../src/index.js';
import { type MetricsVia, Telemetry, until } from './telemetry.js';

/** A real server and how to reach it, for {@link describeEventPaths}. */
export interface TelemetryTarget {
  /** The suite's name and the expected `lock.system.name`. */
  readonly system: string;
  /** Whether the server can run here (warns loudly when not; throws under CI). */
  readonly available: boolean;
  /** Starts a server of the suite's own (tests pause it). */
  start(): Promise<RunningServer>;
  /** A backend on `server` with request deadlines well under {@link TelemetryTarget.ttl}, keys under `namespace`. */
  backend(server: RunningServer, namespace: string): LockBackend;
  /** A backend on a port where nothing listens. */
  unreachableBackend(): Promise<LockBackend>;
  /** Deletes `key`'s lock with a raw client, behind its holder's back. */
  forceDelete(server: RunningServer, namespace: string, key: string): Promise<void>;
  /** Closes raw clients. */
  close(): Promise<void>;
  /** TTL for the loss tests: a few renewal intervals, longer than a request deadline. */
  readonly ttl: number;
}

/**
 * Every lock event path, on a real server, through a real OpenTelemetry SDK with in-memory
 * outputs: each produces its metric (and span), and a stopped instrumentation records nothing.
 */
export function describeEventPaths(target: TelemetryTarget): void {
  (target.available ? describe : describe.skip)(`@lock/otel on ${target.system}`, () => {
    let server: RunningServer;
    const cleanups: (() => Promise<void> | void)[] = [];
    const contextManager = new AsyncLocalStorageContextManager();
    const system = { 'lock.system.name': target.system };

    beforeAll(async () => {
      context.setGlobalContextManager(contextManager.enable());
      server = await target.start();
    }, 30_000);
    afterEach(async () => {
      await server.resume();
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    afterAll(async () => {
      context.disable();
      await target.close();
      await server?.stop();
    });

    // Every test runs twice: metrics recorded through a meter, and aggregated by a LockMetricProducer.
    describe.each<MetricsVia>(['meter', 'producer'])('metrics through a %s', (via) => {
      /**
       * An instrumented locker of its own, with a fresh SDK; cleaned up after the test. `listen`
       * adds listeners before the instrumentation's (listeners run in the order they were added).
       */
      const setup = (
        options: InstrumentOptions = {},
        ttl = target.ttl,
        listen: (locker: Locker) => void = () => {},
      ) => {
        const telemetry = new Telemetry(via);
        const namespace = randomNamespace();
        const locker = createLocker(target.backend(server, namespace), { ttl, onError: () => {} });
        listen(locker);
        const stop = instrument(locker, {
          ...telemetry.metricOptions,
          tracerProvider: telemetry.tracerProvider,
          spans: 'always',
          ...options,
        });
        cleanups.push(
          () => telemetry.shutdown(),
          () => locker.close(),
          stop,
        );
        return { telemetry, locker, stop, namespace };
      };
      const lostSignal = (signal: AbortSignal) =>
        new Promise<unknown>((resolve) => {
          if (signal.aborted) resolve(signal.reason);
          signal.addEventListener('abort', () => resolve(signal.reason));
        });

      it('an uncontended lock and release: wait and hold time, acquisition and attempt, held count, units', async () => {
        const { telemetry, locker } = setup();
        const lock = await locker.lock(randomKey());
        await telemetry.collect();
        expect(telemetry.sum('lock.held.count', system)).toBe(1);
        await lock.release();
        const session = locker.session();
        await (await session.tryLock(randomKey())).release(); // a session reports to its parent
        await telemetry.collect();
        expect(telemetry.sum('lock.held.count', system)).toBe(0);
        const waited = telemetry.histogram('lock.acquire.duration', {
          ...system,
          'lock.contended': false,
        });
        expect(waited.count).toBe(2);
        expect(waited.max).toBeLessThan(1); // seconds: an uncontended round trip
        expect(telemetry.sum('lock.acquisitions', { ...system, 'lock.contended': false })).toBe(2);
        expect(telemetry.sum('lock.acquisitions', { 'lock.contended': true })).toBe(0);
        expect(telemetry.sum('lock.acquire.attempts', system)).toBe(2);
        const held = telemetry.histogram('lock.hold.duration', {
          ...system,
          'lock.hold.end': 'released',
        });
        expect(held.count).toBe(2);
        expect(held.sum).toBeGreaterThan(0);
        // Every instrument reported so far carries its documented unit and description, and no key.
        for (const description of Object.values(LockMetrics)) {
          const metric = telemetry.metric(description.name);
          if (metric === undefined) continue;
          expect(metric.descriptor.unit).toBe(description.unit);
          expect(metric.descriptor.description).toBe(description.description);
          for (const attributes of telemetry.attributeSets(description.name)) {
            expect(attributes).not.toHaveProperty('lock.key');
          }
        }
        expect(telemetry.metric('lock.acquire.duration')?.descriptor.unit).toBe('s');
      });

      it("a call of this process waiting for the key: contention, and the handoff from the release's send time", async () => {
        const key = randomKey();
        // When the waiting call's grant is reported to listeners (after core told the instrumentation).
        const granted: number[] = [];
        const noteGrant = () => (event: LockEventMap['acquired']) => {
          if (event.contended) granted.push(performance.now());
        };
        const { telemetry, locker } = setup({}, target.ttl, (locker) => {
          locker.on('acquired', noteGrant());
        });
        locker.on('acquired', noteGrant());
        const releases: LockEventMap['released'][] = [];
        locker.on('released', (event) => releases.push(event));
        const first = await locker.lock(key);
        const waiting = locker.lock(key, { timeout: 10_000 });
        await sleep(150);
        await first.release();
        const second = await waiting;
        await second.release();
        await telemetry.collect();
        expect(telemetry.sum('lock.acquisitions', { ...system, 'lock.contended': true })).toBe(1);
        const waited = telemetry.histogram('lock.acquire.duration', { 'lock.contended': true });
        expect(waited.count).toBe(1);
        expect(waited.min).toBeGreaterThanOrEqual(0.14);
        const handoff = telemetry.histogram('lock.handoff.duration', system);
        expect(handoff.count).toBe(1);
        // From the first release's send time (not its confirmation, which may even come after the
        // grant) to the grant as core timed it: after the send, before the listeners heard of it,
        // and inside the waiting call's wait.
        const sentAt = releases[0]?.sentAt ?? Number.NaN;
        const [reported = Number.NaN] = granted;
        expect(handoff.sum).toBeGreaterThan(0);
        expect(handoff.sum).toBeLessThanOrEqual((reported - sentAt) / 1000);
        expect(handoff.sum).toBeLessThan(waited.sum);
        expect(handoff.max).toBeLessThan(1);
        expect(telemetry.histogram('lock.hold.duration').count).toBe(2);
      });

      it('the acquire span of a waiting call carries the attempts that found the key held', async () => {
        const { telemetry, locker, namespace } = setup();
        const other = createLocker(target.backend(server, namespace), { onError: () => {} });
        cleanups.push(() => other.close());
        const denials: LockEventMap['denied'][] = [];
        locker.on('denied', (event) => denials.push(event));
        const calls: number[] = [];
        locker.on('acquired', (event) => calls.push(event.call));
        const key = randomKey();
        const held = await other.lock(key);
        const waiting = locker.lock(key, { timeout: 10_000 });
        await sleep(100);
        await held.release();
        await (await waiting).release();
        const ofCall = denials.filter((denial) => denial.call === calls[0]);
        expect(ofCall.length).toBeGreaterThanOrEqual(1);
        const [acquire] = telemetry.ended('lock.acquire');
        expect(acquire?.status.code).toBe(SpanStatusCode.UNSET);
        expect(acquire?.attributes['lock.contended']).toBe(true);
        const events = acquire?.events.filter((event) => event.name === 'lock.acquire.denied');
        expect(events?.map((event) => event.attributes?.['lock.holder'])).toEqual(
          ofCall.map((denial) => denial.holder),
        );
        for (const denial of ofCall) {
          if (denial.holder !== undefined) expect(denial.holder).toBe(other.identity);
        }
      });

      it('calls that give up: their wait time by error code, and ended, errored acquire spans', async () => {
        const { telemetry, locker, namespace } = setup();
        const other = createLocker(target.backend(server, namespace), { onError: () => {} });
        cleanups.push(() => other.close());
        const failures: LockEventMap['acquire-failed'][] = [];
        const denials: LockEventMap['denied'][] = [];
        locker.on('acquire-failed', (event) => failures.push(event));
        locker.on('denied', (event) => denials.push(event));
        const key = randomKey();
        const held = await other.lock(key);
        // Timed out, aborted by the caller, stopped by its session's close.
        const timedOut = await locker.lock(key, { timeout: 200 }).catch((e: unknown) => e);
        const abort = new AbortController();
        const aborted = locker.lock(key, { signal: abort.signal }).catch((e: unknown) => e);
        const session = locker.session();
        const closed = session.lock(key).catch((e: unknown) => e);
        await sleep(100);
        abort.abort();
        await session.close();
        expect(isLockError(timedOut, 'TIMEOUT')).toBe(true);
        expect(isLockError(await aborted, 'ABORTED')).toBe(true);
        expect(isLockError(await closed, 'CLOSED')).toBe(true);
        await held.release();
        await telemetry.collect();
        const failed = (code: string) =>
          telemetry.histogram('lock.acquire.duration', { ...system, 'error.type': code });
        expect(failed('TIMEOUT').count).toBe(1);
        expect(failed('TIMEOUT').min).toBeGreaterThanOrEqual(0.19);
        expect(failed('ABORTED').count).toBe(1);
        expect(failed('CLOSED').count).toBe(1);
        expect(failed('ABORTED').sum).toBeGreaterThanOrEqual(0.09);
        // Failed calls carry error.type instead of lock.contended, and count no acquisition.
        for (const attributes of telemetry.attributeSets('lock.acquire.duration')) {
          expect(attributes).not.toHaveProperty('lock.contended');
        }
        expect(telemetry.sum('lock.acquisitions')).toBe(0);
        expect(telemetry.sum('lock.held.count', system)).toBe(0);
        const spans = telemetry.ended('lock.acquire');
        expect(spans.map((span) => span.attributes['error.type']).sort()).toEqual([
          'ABORTED',
          'CLOSED',
          'TIMEOUT',
        ]);
        for (const span of spans) {
          const failure = failures.find((f) => f.code === span.attributes['error.type']);
          expect(span.status).toEqual({
            code: SpanStatusCode.ERROR,
            message: `lock call failed: ${failure?.code}`,
          });
          expect(span.attributes['lock.acquire.attempts']).toBe(failure?.attempts);
          expect(span.events.filter((event) => event.name === 'lock.acquire.denied')).toHaveLength(
            denials.filter((denial) => denial.call === failure?.call).length,
          );
          // From the call to the moment it gave up, as core measured it.
          const durationMs = span.duration[0] * 1000 + span.duration[1] / 1e6;
          expect(durationMs).toBeCloseTo(failure?.waitMs ?? Number.NaN, 0);
        }
        expect(telemetry.ended('lock.hold')).toHaveLength(0);
      });

      it('an attempt that finds the key held counts a denial, and no acquisition', async () => {
        const { telemetry, locker, namespace } = setup();
        const other = createLocker(target.backend(server, namespace), { onError: () => {} });
        cleanups.push(() => other.close());
        const key = randomKey();
        const held = await other.tryLock(key);
        await expect(locker.tryLock(key)).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
        await held.release();
        await telemetry.collect();
        expect(telemetry.sum('lock.acquire.denials', system)).toBe(1);
        expect(telemetry.sum('lock.acquisitions')).toBe(0);
        expect(telemetry.ended()).toHaveLength(0);
      });

      it('keepalive renewals are counted with their round trip, and on the hold span', async () => {
        const { telemetry, locker } = setup();
        const lock = await locker.lock(randomKey());
        await until(
          async () => (await telemetry.collect()).sum('lock.renewals', system) >= 2,
          target.ttl * 3,
          'two renewals',
        );
        await lock.release();
        await telemetry.collect();
        const renewals = telemetry.sum('lock.renewals', system);
        const roundTrips = telemetry.histogram('lock.renewal.duration', system);
        expect(roundTrips.count).toBe(renewals);
        expect(roundTrips.max).toBeLessThan(target.ttl / 1000);
        const [hold] = telemetry.ended('lock.hold');
        expect(hold?.attributes['lock.renewals']).toBe(renewals);
      });

      it('a key deleted behind its holder: a loss with its detection delay, hold time and span', async () => {
        const { telemetry, locker, namespace } = setup();
        const reported = lossesReportedBy(locker);
        const lock = await locker.tryLock(randomKey());
        const deletedAt = performance.now();
        await target.forceDelete(server, namespace, lock.key);
        expect(isLockError(await lostSignal(lock.signal), 'LOST')).toBe(true);
        const noticedAfterMs = performance.now() - deletedAt;
        await telemetry.collect();
        const [loss] = reported;
        expect(reported).toHaveLength(1);
        expect(loss?.reason).toMatch(/^(refused|expired)$/);
        expectLossRecorded(telemetry, loss);
        // From the last confirmed renewal to the loss: at least the time the deletion went unnoticed
        // (a renewal applied just before the deletion may be confirmed a round trip after it).
        expect(loss?.sinceLastRenewalMs).toBeGreaterThanOrEqual(noticedAfterMs - 100);
        const held = telemetry.histogram('lock.hold.duration', { 'lock.hold.end': 'lost' });
        expect(held.count).toBe(1);
        expect(held.sum).toBeCloseTo((loss?.holdMs ?? Number.NaN) / 1000, 9);
        expect(telemetry.sum('lock.held.count', system)).toBe(0);
        const [hold] = telemetry.ended('lock.hold');
        const [acquire] = telemetry.ended('lock.acquire');
        expect(hold?.status.code).toBe(SpanStatusCode.ERROR);
        expect(hold?.attributes['lock.hold.end']).toBe('lost');
        expect(hold?.attributes['lock.fence']).toBe(lock.fence);
        const lostEvent = hold?.events.find((event) => event.name === 'lock.lost');
        expect(lostEvent?.attributes).toEqual({
          'lock.loss.reason': loss?.reason,
          'lock.loss.detection': (loss?.sinceLastRenewalMs ?? Number.NaN) / 1000,
          'lock.remaining_validity': (loss?.beforeValidityEndMs ?? Number.NaN) / 1000,
        });
        expect(hold?.links[0]?.context.spanId).toBe(acquire?.spanContext().spanId);
      });

      it('a server paused past the TTL: at risk, failed renewals, then lost by expiry with its detection delay', async () => {
        const { telemetry, locker } = setup();
        const reported = lossesReportedBy(locker);
        const lock = await locker.tryLock(randomKey());
        await sleep(50);
        await server.pause();
        const lost = await lostSignal(lock.signal);
        await server.resume();
        expect(isLockError(lost, 'LOST')).toBe(true);
        await telemetry.collect();
        expect(telemetry.sum('lock.risks', system)).toBe(1);
        expect(
          telemetry.sum('lock.errors', { ...system, 'lock.operation.name': 'renew' }),
        ).toBeGreaterThanOrEqual(1);
        const [loss] = reported;
        expect(reported).toHaveLength(1);
        expect(loss?.reason).toBe('expired');
        expectLossRecorded(telemetry, loss);
        // Lost by the clock at the end of the validity its last confirmed renewal gave: after most
        // of a TTL without one (the loss timer's lead and a late timer aside).
        expect(loss?.sinceLastRenewalMs).toBeGreaterThan(target.ttl * 0.5);
        expect(loss?.sinceLastRenewalMs).toBeLessThan(target.ttl * 1.5);
        const [hold] = telemetry.ended('lock.hold');
        expect(hold?.events.map((event) => event.name)).toEqual(['lock.at_risk', 'lock.lost']);
      });

      it('a release without a reply ends the hold as release_failed and counts the error', async () => {
        const { telemetry, locker } = setup();
        const lock = await locker.tryLock(randomKey());
        await server.pause();
        await expect(lock.release()).rejects.toMatchObject({ code: 'BACKEND' });
        await server.resume();
        await telemetry.collect();
        expect(
          telemetry.sum('lock.errors', {
            ...system,
            'error.type': 'BACKEND',
            'lock.operation.name': 'release',
          }),
        ).toBe(1);
        expect(
          telemetry.histogram('lock.hold.duration', { 'lock.hold.end': 'release_failed' }).count,
        ).toBe(1);
        expect(telemetry.sum('lock.held.count', system)).toBe(0);
        const [hold] = telemetry.ended('lock.hold');
        expect(hold?.status.code).toBe(SpanStatusCode.ERROR);
        expect(hold?.attributes['lock.hold.end']).toBe('release_failed');
      });

      it('a release that finds the key gone: a released-elsewhere loss with its hold time and detection delay', async () => {
        // A long TTL keeps keepalive from noticing the deletion before the release does.
        const { telemetry, locker, namespace } = setup({}, 20_000);
        const reported = lossesReportedBy(locker);
        const lock = await locker.tryLock(randomKey());
        await target.forceDelete(server, namespace, lock.key);
        const refusal = await lock.release().catch((error: unknown) => error);
        expect(isLockError(refusal, 'NOT_FOUND') || isLockError(refusal, 'FORBIDDEN')).toBe(true);
        await telemetry.collect();
        const [loss] = reported;
        expect(reported).toHaveLength(1);
        expect(loss?.reason).toBe('released-elsewhere');
        expectLossRecorded(telemetry, loss);
        expect(telemetry.sum('lock.held.count', system)).toBe(0);
        const held = telemetry.histogram('lock.hold.duration', {
          ...system,
          'lock.hold.end': 'lost',
        });
        expect(held.count).toBe(1);
        expect(held.sum).toBeCloseTo((loss?.holdMs ?? Number.NaN) / 1000, 9);
        const [hold] = telemetry.ended('lock.hold');
        expect(hold?.status.code).toBe(SpanStatusCode.ERROR);
        expect(hold?.attributes['lock.hold.end']).toBe('lost');
        expect(hold?.events.map((event) => event.name)).toEqual(['lock.lost']);
      });

      it('a backend that cannot be reached: errors by code and operation', async () => {
        const telemetry = new Telemetry(via);
        const locker = createLocker(await target.unreachableBackend(), { onError: () => {} });
        const stop = instrument(locker, telemetry.metricOptions);
        cleanups.push(
          () => telemetry.shutdown(),
          () => locker.close(),
          stop,
        );
        const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
        expect(isLockError(error)).toBe(true);
        await telemetry.collect();
        expect(
          telemetry.sum('lock.errors', {
            ...system,
            'error.type': (error as { code: string }).code,
            'lock.operation.name': 'acquire',
          }),
        ).toBe(1);
        // The call's wait, to its failure, by the same code.
        const failed = telemetry.histogram('lock.acquire.duration', {
          ...system,
          'error.type': (error as { code: string }).code,
        });
        expect(failed.count).toBe(1);
        expect(failed.max).toBeLessThan(5);
      });

      it('keys are recorded only when the keys option allows or maps them', async () => {
        const listed = randomKey();
        const { telemetry, locker } = setup({ keys: [listed] });
        for (const key of [listed, randomKey()]) await (await locker.lock(key)).release();
        await telemetry.collect();
        expect(telemetry.sum('lock.acquisitions', { 'lock.key': listed })).toBe(1);
        expect(telemetry.attributeSets('lock.acquire.duration')).toHaveLength(2);
        expect(
          telemetry
            .attributeSets('lock.hold.duration')
            .filter((set) => set['lock.key'] === undefined),
        ).toHaveLength(1);
        expect(telemetry.ended('lock.hold').map((span) => span.attributes['lock.key'])).toEqual([
          listed,
          undefined,
        ]);

        const mapped = setup({
          keys: (key) => (key.startsWith('invoice:') ? 'invoice:*' : undefined),
        });
        for (const key of ['invoice:1', 'invoice:2', 'report']) {
          await (await mapped.locker.lock(key)).release();
        }
        await mapped.telemetry.collect();
        expect(mapped.telemetry.sum('lock.acquisitions', { 'lock.key': 'invoice:*' })).toBe(2);
        expect(mapped.telemetry.sum('lock.acquisitions')).toBe(3);
        const values = mapped.telemetry
          .attributeSets('lock.hold.duration')
          .map((set) => set['lock.key']);
        expect(values.sort()).toEqual(['invoice:*', undefined]);
      });

      it("spans: children of the caller's span by default, linked, none outside a trace unless asked", async () => {
        const { telemetry, locker } = setup({ spans: 'with-parent' });
        const tracer = telemetry.tracerProvider.getTracer('test');
        await (await locker.lock(randomKey())).release(); // outside any span: none
        expect(telemetry.ended()).toHaveLength(0);
        const parent = await tracer.startActiveSpan('request', async (span) => {
          await (await locker.lock(randomKey())).release();
          span.end();
          return span;
        });
        // Inside a trace that was not sampled (its span does not record): none either.
        const unsampled = trace.wrapSpanContext({
          traceId: parent.spanContext().traceId,
          spanId: parent.spanContext().spanId,
          traceFlags: TraceFlags.NONE,
        });
        await context.with(trace.setSpan(context.active(), unsampled), async () => {
          await (await locker.lock(randomKey())).release();
        });
        expect(telemetry.ended().map((span) => span.name)).toEqual([
          'lock.acquire',
          'lock.hold',
          'request',
        ]);
        const [acquire] = telemetry.ended('lock.acquire');
        const [hold] = telemetry.ended('lock.hold');
        expect(acquire?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
        expect(hold?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
        expect(hold?.spanContext().traceId).toBe(parent.spanContext().traceId);
        expect(hold?.links.map((link) => link.context.spanId)).toEqual([
          acquire?.spanContext().spanId,
        ]);
        expect(acquire?.attributes).toMatchObject({
          ...system,
          'lock.contended': false,
          'lock.acquire.attempts': 1,
        });
        expect(hold?.attributes).toMatchObject({
          ...system,
          'lock.hold.end': 'released',
          'lock.ttl': target.ttl / 1000,
        });
        expect(hold?.status.code).toBe(SpanStatusCode.UNSET);

        const always = setup({ spans: 'always' });
        await (await always.locker.lock(randomKey())).release();
        expect(always.telemetry.ended().map((span) => [span.name, span.parentSpanContext])).toEqual(
          [
            ['lock.acquire', undefined],
            ['lock.hold', undefined],
          ],
        );
        // A root acquire span the sampler drops takes its hold span with it (this sampler would
        // keep the hold span).
        const sampledOut = new BasicTracerProvider({
          sampler: {
            shouldSample: (_context, _traceId, name) => ({
              decision:
                name === 'lock.acquire'
                  ? SamplingDecision.NOT_RECORD
                  : SamplingDecision.RECORD_AND_SAMPLED,
            }),
            toString: () => 'drops lock.acquire',
          },
          spanProcessors: [new SimpleSpanProcessor(always.telemetry.spans)],
        });
        const dropped = setup({ spans: 'always', tracerProvider: sampledOut });
        await (await dropped.locker.lock(randomKey())).release();
        expect(always.telemetry.ended()).toHaveLength(2);
        const off = setup({ spans: 'off' });
        await off.telemetry.tracerProvider
          .getTracer('test')
          .startActiveSpan('request', async (span) => {
            await (await off.locker.lock(randomKey())).release();
            span.end();
          });
        expect(off.telemetry.ended().map((span) => span.name)).toEqual(['request']);
      });

      it('nothing is recorded once stopped; stop() ends open hold spans and empties the held count', async () => {
        const { telemetry, locker, stop, namespace } = setup();
        await (await locker.lock(randomKey())).release();
        const open = await locker.lock(randomKey());
        stop();
        const snapshot = await collectEverything(telemetry);
        expect(telemetry.sum('lock.held.count', system)).toBe(0);
        expect(telemetry.ended('lock.hold')).toHaveLength(2);
        expect(telemetry.ended('lock.hold')[1]?.attributes).not.toHaveProperty('lock.hold.end');
        // Every path once more: acquire, contention, release, denial, a call that gives up, loss.
        await open.release();
        const key = randomKey();
        const first = await locker.lock(key);
        const waiting = locker.lock(key);
        await sleep(50);
        await first.release();
        await (await waiting).release();
        const other = createLocker(target.backend(server, namespace), { onError: () => {} });
        cleanups.push(() => other.close());
        const held = await other.tryLock(key);
        await expect(locker.tryLock(key)).rejects.toMatchObject({ code: 'NOT_ACQUIRED' });
        await expect(locker.lock(key, { timeout: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
        await held.release();
        const doomed = await locker.tryLock(randomKey());
        await target.forceDelete(server, namespace, doomed.key);
        await lostSignal(doomed.signal);
        expect(await collectEverything(telemetry)).toEqual(snapshot);
        expect(telemetry.ended()).toHaveLength(4);
        stop(); // twice does nothing
        // Stopped, the locker can be instrumented again; instrumenting it twice at once cannot.
        const again = instrument(locker, telemetry.metricOptions);
        expect(() => instrument(locker)).toThrow(/already instrumented/);
        again();
      });

      /** The `lost` events core reports to `locker`, as they come. */
      function lossesReportedBy(locker: Locker): LockEventMap['lost'][] {
        const reported: LockEventMap['lost'][] = [];
        locker.on('lost', (event) => reported.push(event));
        return reported;
      }

      /** `loss` is in the loss counter and both loss histograms, exactly as core reported it. */
      function expectLossRecorded(
        telemetry: Telemetry,
        loss: LockEventMap['lost'] | undefined,
      ): void {
        if (loss === undefined) throw new Error('no loss was reported');
        const late = loss.beforeValidityEndMs < 0;
        const byReason = { ...system, 'lock.loss.reason': loss.reason };
        expect(telemetry.sum('lock.losses', system)).toBe(1);
        expect(telemetry.sum('lock.losses', { ...byReason, 'lock.loss.late': late })).toBe(1);
        const detection = telemetry.histogram('lock.loss.detection.duration', byReason);
        expect(detection.count).toBe(1);
        expect(detection.sum).toBeCloseTo(loss.sinceLastRenewalMs / 1000, 9);
        const remaining = telemetry.histogram('lock.loss.remaining_validity', byReason);
        expect(remaining.count).toBe(1);
        expect(remaining.sum).toBeCloseTo(Math.max(0, loss.beforeValidityEndMs) / 1000, 9);
      }

      /** Every point of every lock metric, comparable across collections. */
      async function collectEverything(telemetry: Telemetry): Promise<unknown> {
        await telemetry.collect();
        return Object.values(LockMetrics).map((description) => {
          const points = telemetry.metric(description.name)?.dataPoints ?? [];
          return [
            description.name,
            points.map((point) => [point.attributes, JSON.stringify(point.value)]),
          ];
        });
      }
    });
  });
}
