/**
 * Benchmark of {@link RedlockBackend}: uncontended acquire + release pairs per second through a
 * locker, 1 in flight and 50 keys in parallel, over N independent Redis servers; and, in the
 * same run, the same workload on one of them through a plain {@link RedisBackend} (unfair), so
 * the cost of the quorum shows as a ratio.
 *
 * Run: `npx tsx --conditions=source bench/redlock-bench.ts redis://127.0.0.1:6379 redis://127.0.0.1:6380 redis://127.0.0.1:6381`
 * (prints a markdown table; `BENCH_DURATION_MS` sets each measurement's length, default 3000).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createLocker, type Locker } from '@lock/core';
import { RedisBackend, RedlockBackend } from '../src/index.js';

/** One measurement. */
export interface RedlockBenchRow {
  readonly name: string;
  readonly inFlight: number;
  readonly pairsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Measures Redlock over `urls` and a single node (the first URL) for `durationMs` each. */
export async function runRedlockBench(
  urls: readonly string[],
  durationMs = 3_000,
): Promise<RedlockBenchRow[]> {
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const lockers: [string, Locker][] = [
    [
      `redlock (${urls.length} nodes)`,
      createLocker(new RedlockBackend({ nodes: urls, prefix }), { ttl: 30_000 }),
    ],
    [
      'redis, one node (fair: false)',
      createLocker(new RedisBackend({ url: urls[0] as string, prefix, fair: false }), {
        ttl: 30_000,
      }),
    ],
  ];
  const rows: RedlockBenchRow[] = [];
  try {
    for (const inFlight of [1, 50]) {
      for (const [name, locker] of lockers) {
        await pairs(locker, inFlight, 300); // warm-up: connections, scripts, JIT
        rows.push({ name, inFlight, ...(await pairs(locker, inFlight, durationMs)) });
      }
    }
  } finally {
    await Promise.all(lockers.map(([, locker]) => locker.close()));
  }
  return rows;
}

async function pairs(locker: Locker, inFlight: number, durationMs: number) {
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async (_, worker) => {
      const key = `k${worker}`;
      while (performance.now() < end) {
        const t = performance.now();
        const lock = await locker.tryLock(key);
        await lock.release();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Number((latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(3));
  return {
    pairsPerSecond: Math.round((latencies.length / elapsed) * 1_000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

/** The rows as a markdown table. */
export function formatRedlockBench(rows: readonly RedlockBenchRow[]): string {
  return [
    '| workload | in flight | pairs/s | p50 ms | p99 ms |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.inFlight} | ${row.pairsPerSecond} | ${row.p50Ms} | ${row.p99Ms} |`,
    ),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const urls = process.argv.slice(2);
  if (urls.length === 0) throw new Error('give the Redis URLs of the Redlock nodes');
  const duration = Number(process.env['BENCH_DURATION_MS'] ?? 3_000);
  console.log(formatRedlockBench(await runRedlockBench(urls, duration)));
}
