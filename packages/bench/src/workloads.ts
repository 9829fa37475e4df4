import { percentile, randomKey } from '@lock/testkit/servers';
import type { HeldByAdapter, LockAdapter } from './adapter.js';
import { heapPerItem } from './heap.js';
import type { ServerCounter } from './server-counters.js';

/**
 * Milliseconds on the system's monotonic clock (CLOCK_MONOTONIC through `process.hrtime`), which
 * every process on the machine shares: contenders in separate processes stamp their events with
 * it, so a release in one and the next acquire in another can be subtracted.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

/** Throughput and latency of acquire+release pairs. */
export interface UncontendedResult {
  readonly pairs: number;
  readonly pairsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** This process's CPU time (user + system) per pair, in µs: steadier than pairs/s on a shared machine. */
  readonly cpuUsPerPair: number | undefined;
}

/** `inFlight` loops, each on its own key, acquire+release pairs for `durationMs`. */
export async function uncontended(
  adapter: LockAdapter,
  inFlight: number,
  durationMs: number,
): Promise<UncontendedResult> {
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      const key = randomKey('bench');
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const held = await adapter.acquire(key, { ttlMs: 10_000, timeoutMs: 10_000 });
          await held.release();
          latencies.push(performance.now() - t0);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    pairs: latencies.length,
    pairsPerSecond: (latencies.length / elapsed) * 1000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors,
    cpuUsPerPair: (cpu.user + cpu.system) / Math.max(1, latencies.length),
  };
}

/** What one contender saw: its waits and holds, stamped with {@link monotonicMs}. */
export interface ContenderReport {
  readonly waits: number[];
  readonly holds: { readonly acquiredAt: number; readonly releasingAt: number }[];
  readonly failed: number;
}

/**
 * One contender's loop on `key` from `startAt` until `endAt` (both {@link monotonicMs}): wait
 * for the lock, hold it ~`workMs`, release. pnpm bench runs each contender in its own process
 * with its own locker and connection, as independent services contend in production.
 */
export async function contend(
  adapter: LockAdapter,
  key: string,
  startAt: number,
  endAt: number,
  workMs: number,
): Promise<ContenderReport> {
  const report: ContenderReport = { waits: [], holds: [], failed: 0 };
  await sleep(startAt - monotonicMs());
  while (monotonicMs() < endAt) {
    const t0 = monotonicMs();
    let held: HeldByAdapter;
    try {
      held = await adapter.acquire(key, { ttlMs: 10_000, timeoutMs: 10_000 });
    } catch {
      (report as { failed: number }).failed += 1;
      continue;
    }
    const acquiredAt = monotonicMs();
    report.waits.push(acquiredAt - t0);
    await sleep(workMs);
    report.holds.push({ acquiredAt, releasingAt: monotonicMs() });
    await held.release().catch(() => {
      (report as { failed: number }).failed += 1;
    });
  }
  return report;
}

/** What the contenders for one key saw together. */
export interface ContendedResult {
  readonly acquisitionsPerSecond: number;
  readonly waitP50Ms: number;
  readonly waitP99Ms: number;
  readonly waitMaxMs: number;
  readonly handoffP50Ms: number;
  readonly handoffP99Ms: number;
  readonly failed: number;
  /** Smallest and largest per-contender count, as a fraction of the mean. */
  readonly spread: { readonly min: number; readonly max: number };
}

/** Combines every contender's report of one run of `durationMs`. */
export function summarizeContention(
  reports: readonly ContenderReport[],
  durationMs: number,
): ContendedResult {
  const waits = reports.flatMap((r) => r.waits);
  const holds = reports.flatMap((r) => r.holds).sort((a, b) => a.acquiredAt - b.acquiredAt);
  const handoffs: number[] = [];
  for (let i = 1; i < holds.length; i++)
    handoffs.push(
      (holds[i] as { acquiredAt: number }).acquiredAt -
        (holds[i - 1] as { releasingAt: number }).releasingAt,
    );
  const counts = reports.map((r) => r.waits.length);
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  return {
    acquisitionsPerSecond: (waits.length / durationMs) * 1000,
    waitP50Ms: percentile(waits, 50),
    waitP99Ms: percentile(waits, 99),
    waitMaxMs: percentile(waits, 100),
    handoffP50Ms: percentile(handoffs, 50),
    handoffP99Ms: percentile(handoffs, 99),
    failed: reports.reduce((total, r) => total + r.failed, 0),
    spread: {
      min: mean > 0 ? Math.min(...counts) / mean : 0,
      max: mean > 0 ? Math.max(...counts) / mean : 0,
    },
  };
}

/** Memory and keepalive traffic of many locks held at once. */
export interface HeldManyResult {
  readonly locks: number;
  readonly heapPerLockBytes: number;
  readonly rssMiB: number;
  readonly acquireSeconds: number;
  /** Client requests per second while only holding, as the adapter counts them, when it can. */
  readonly requestsPerSecond: number | undefined;
  /** Commands per second the server itself processed while only holding (see server-counters). */
  readonly serverCommandsPerSecond: number | undefined;
}

/**
 * Holds `count` locks (TTL `ttlMs`) for `holdMs`, measuring heap per lock (see
 * {@link heapPerItem}: run it in a fresh process after a warm-up) and the traffic of holding.
 */
export async function heldMany(
  adapter: LockAdapter,
  count: number,
  ttlMs: number,
  holdMs: number,
  counter: ServerCounter | undefined,
): Promise<HeldManyResult> {
  const prefix = randomKey('many');
  const started = performance.now();
  let acquireSeconds = 0;
  const { bytesPerItem, result } = await heapPerItem(
    count,
    async () => {
      const held: HeldByAdapter[] = [];
      for (let i = 0; i < count; i += 500) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(500, count - i) }, (_, j) =>
            adapter.acquire(`${prefix}-${i + j}`, { ttlMs, timeoutMs: 30_000 }),
          ),
        );
        held.push(...batch);
      }
      acquireSeconds = (performance.now() - started) / 1000;
      return held;
    },
    async (held) => {
      const rssMiB = process.memoryUsage().rss / 2 ** 20;
      const requestsBefore = await adapter.requestCount?.();
      const commandsBefore = await counter?.read();
      const t0 = performance.now();
      await sleep(holdMs);
      const requestsAfter = await adapter.requestCount?.();
      const commandsAfter = await counter?.read();
      const perSecond = (before: number | undefined, after: number | undefined) =>
        before === undefined || after === undefined
          ? undefined
          : ((after - before) / (performance.now() - t0)) * 1000;
      for (let i = 0; i < held.length; i += 500) {
        await Promise.all(held.slice(i, i + 500).map((h) => h.release().catch(() => {})));
      }
      return {
        rssMiB,
        requestsPerSecond: perSecond(requestsBefore, requestsAfter),
        serverCommandsPerSecond: perSecond(commandsBefore, commandsAfter),
      };
    },
  );
  return { locks: count, heapPerLockBytes: bytesPerItem, acquireSeconds, ...result };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
