import { percentile, randomKey } from '@lock/testkit/servers';
import type { HeldByAdapter, LockAdapter } from './adapter.js';

/** Throughput and latency of acquire+release pairs. */
export interface UncontendedResult {
  readonly pairsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** This process's CPU time (user + system) per pair, in µs: steadier than pairs/s on a shared machine. */
  readonly cpuUsPerPair: number;
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
    pairsPerSecond: (latencies.length / elapsed) * 1000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors,
    cpuUsPerPair: (cpu.user + cpu.system) / Math.max(1, latencies.length),
  };
}

/** What `workers` contending for one key saw. */
export interface ContendedResult {
  readonly acquisitionsPerSecond: number;
  readonly waitP50Ms: number;
  readonly waitP99Ms: number;
  readonly waitMaxMs: number;
  readonly handoffP50Ms: number;
  readonly handoffP99Ms: number;
  readonly failed: number;
  /** Smallest and largest per-worker count, as a fraction of the mean. */
  readonly spread: { readonly min: number; readonly max: number };
}

/** `workers` loops on one key: wait, hold ~`workMs`, release, for `durationMs`. */
export async function contended(
  adapter: LockAdapter,
  workers: number,
  durationMs: number,
  workMs: number,
): Promise<ContendedResult> {
  const key = randomKey('contended');
  const waits: number[] = [];
  const events: { acquiredAt: number; releasingAt: number }[] = [];
  const counts = new Array<number>(workers).fill(0);
  let failed = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    counts.map(async (_, worker) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        let held: HeldByAdapter;
        try {
          held = await adapter.acquire(key, { ttlMs: 10_000, timeoutMs: 10_000 });
        } catch {
          failed += 1;
          continue;
        }
        const acquiredAt = performance.now();
        waits.push(acquiredAt - t0);
        counts[worker] = (counts[worker] as number) + 1;
        await busy(workMs);
        const releasingAt = performance.now();
        events.push({ acquiredAt, releasingAt });
        await held.release().catch(() => {
          failed += 1;
        });
      }
    }),
  );
  const elapsed = performance.now() - started;
  events.sort((a, b) => a.acquiredAt - b.acquiredAt);
  const handoffs: number[] = [];
  for (let i = 1; i < events.length; i++) {
    handoffs.push(
      (events[i] as { acquiredAt: number }).acquiredAt -
        (events[i - 1] as { releasingAt: number }).releasingAt,
    );
  }
  const mean = counts.reduce((a, b) => a + b, 0) / workers;
  return {
    acquisitionsPerSecond: (waits.length / elapsed) * 1000,
    waitP50Ms: percentile(waits, 50),
    waitP99Ms: percentile(waits, 99),
    waitMaxMs: percentile(waits, 100),
    handoffP50Ms: percentile(handoffs, 50),
    handoffP99Ms: percentile(handoffs, 99),
    failed,
    spread: { min: Math.min(...counts) / mean, max: Math.max(...counts) / mean },
  };
}

/** Memory and keepalive traffic of many locks held at once. */
export interface HeldManyResult {
  readonly locks: number;
  readonly heapPerLockBytes: number;
  readonly rssMiB: number;
  readonly acquireSeconds: number;
  /** Backend requests per second while only holding (keepalive traffic), when measurable. */
  readonly requestsPerSecond: number | undefined;
}

/** Holds `count` locks (TTL `ttlMs`) for `holdMs`, measuring heap per lock and request rate. */
export async function heldMany(
  adapter: LockAdapter,
  count: number,
  ttlMs: number,
  holdMs: number,
): Promise<HeldManyResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const held: HeldByAdapter[] = [];
  const prefix = randomKey('many');
  for (let i = 0; i < count; i += 500) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(500, count - i) }, (_, j) =>
        adapter.acquire(`${prefix}-${i + j}`, { ttlMs, timeoutMs: 30_000 }),
      ),
    );
    held.push(...batch);
  }
  const acquireSeconds = (performance.now() - started) / 1000;
  gc?.();
  const heapPerLockBytes = (process.memoryUsage().heapUsed - heapBefore) / count;
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  const before = await adapter.requestCount?.();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  const after = await adapter.requestCount?.();
  const requestsPerSecond =
    before === undefined || after === undefined
      ? undefined
      : ((after - before) / (performance.now() - t0)) * 1000;
  for (let i = 0; i < held.length; i += 500) {
    await Promise.all(held.slice(i, i + 500).map((h) => h.release().catch(() => {})));
  }
  return { locks: count, heapPerLockBytes, rssMiB, acquireSeconds, requestsPerSecond };
}

/** Holds the event loop for `ms` as a critical section doing ~1 ms of work would (a timer). */
function busy(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
