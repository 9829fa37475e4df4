/**
 * Benchmark of `@lock/redis` against the floor of a raw `SET NX PX` + Lua compare-and-delete
 * loop on the same node-redis client.
 *
 * Run: `npx tsx --conditions=source bench/redis-bench.ts redis://127.0.0.1:6379`
 * (prints a markdown table); the repository's bench runner calls {@link runRedisBench}.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createLocker, type Locker } from '@lock/core';
import { createClient } from 'redis';
import { RedisBackend } from '../src/index.js';

/** Latency summary in milliseconds. */
export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** One uncontended run. */
export interface UncontendedResult {
  readonly name: string;
  readonly inFlight: number;
  readonly pairsPerSecond: number;
  readonly latency: Latency;
}

/** One contended run: workers taking turns on one key. */
export interface ContendedResult {
  readonly name: string;
  readonly workers: number;
  readonly acquisitionsPerSecond: number;
  readonly wait: Latency;
  /** Fewest and most acquisitions by one worker. */
  readonly perWorker: { readonly min: number; readonly max: number };
}

/** Everything {@link runRedisBench} measured. */
export interface RedisBenchResult {
  readonly url: string;
  readonly durationMs: number;
  readonly uncontended: UncontendedResult[];
  readonly contended: ContendedResult[];
}

const DELETE_IF_OWNER =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * Runs the benchmark against the Redis at `url` (keys under a random `bench:` prefix, removed
 * by their TTL or release) and returns the numbers.
 * @param durationMs length of each measurement.
 */
export async function runRedisBench(url: string, durationMs = 2_000): Promise<RedisBenchResult> {
  const client = createClient({ url, commandOptions: { timeout: 0 } });
  client.on('error', () => {});
  await client.connect();
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const lockers: Locker[] = [];
  const lockerOn = (fair: boolean) => {
    const locker = createLocker(new RedisBackend({ client, prefix, fair }), {
      ttl: 30_000,
      onError: () => {},
    });
    lockers.push(locker);
    return locker;
  };
  try {
    const raw = async (key: string) => {
      const token = randomBytes(16).toString('base64url');
      const set = await client.set(`${prefix}raw:${key}`, token, {
        condition: 'NX',
        expiration: { type: 'PX', value: 30_000 },
      });
      if (set !== 'OK') throw new Error('raw SET NX failed on an uncontended key');
      await client.eval(DELETE_IF_OWNER, { keys: [`${prefix}raw:${key}`], arguments: [token] });
    };
    const unfair = lockerOn(false);
    const fair = lockerOn(true);
    const viaLocker = (locker: Locker) => async (key: string) => {
      const lock = await locker.tryLock(key, { keepalive: false });
      await lock.release();
    };
    await raw('warmup');
    await viaLocker(unfair)('warmup');
    await viaLocker(fair)('warmup');
    const uncontended: UncontendedResult[] = [];
    for (const inFlight of [1, 50]) {
      uncontended.push(
        await pairs('raw SET NX PX + Lua delete (floor)', raw, inFlight, durationMs),
      );
      uncontended.push(
        await pairs('@lock/redis fair (default)', viaLocker(fair), inFlight, durationMs),
      );
      uncontended.push(
        await pairs('@lock/redis fair: false', viaLocker(unfair), inFlight, durationMs),
      );
    }
    const contended = [
      await contend('@lock/redis fair (default)', () => lockerOn(true), durationMs),
      await contend('@lock/redis fair: false', () => lockerOn(false), durationMs),
    ];
    return { url: url.replace(/\/\/[^@]*@/, '//***@'), durationMs, uncontended, contended };
  } finally {
    await Promise.all(lockers.map((l) => l.close()));
    await client.close();
  }
}

async function pairs(
  name: string,
  pair: (key: string) => Promise<void>,
  inFlight: number,
  durationMs: number,
): Promise<UncontendedResult> {
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async (_, i) => {
      const key = `u${inFlight}-${i}`;
      while (performance.now() < end) {
        const t = performance.now();
        await pair(key);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - started;
  return {
    name,
    inFlight,
    pairsPerSecond: Math.round((latencies.length / elapsed) * 1_000),
    latency: summarize(latencies),
  };
}

async function contend(
  name: string,
  lockerFor: () => Locker,
  durationMs: number,
  workers = 10,
): Promise<ContendedResult> {
  const key = `c-${randomBytes(4).toString('hex')}`;
  const waits: number[] = [];
  const counts = new Array<number>(workers).fill(0);
  const end = performance.now() + durationMs;
  const started = performance.now();
  const lockers = Array.from({ length: workers }, lockerFor);
  await Promise.all(
    lockers.map(async (locker, i) => {
      while (performance.now() < end) {
        const t = performance.now();
        const lock = await locker.lock(key, { timeout: 30_000 });
        waits.push(performance.now() - t);
        counts[i] = (counts[i] as number) + 1;
        await new Promise((resolve) => setTimeout(resolve, 1)); // ~1 ms of work
        await lock.release();
      }
    }),
  );
  const elapsed = performance.now() - started;
  return {
    name,
    workers,
    acquisitionsPerSecond: Math.round((waits.length / elapsed) * 1_000),
    wait: summarize(waits),
    perWorker: { min: Math.min(...counts), max: Math.max(...counts) },
  };
}

function summarize(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (ms: number) => Math.round(ms * 1_000) / 1_000;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
}

/** The results as markdown tables. */
export function formatRedisBench(result: RedisBenchResult): string {
  const lines = [
    `Redis at ${result.url}, ${result.durationMs} ms per run.`,
    '',
    '| uncontended acquire + release | in flight | pairs/s | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
    ...result.uncontended.map(
      (r) =>
        `| ${r.name} | ${r.inFlight} | ${r.pairsPerSecond} | ${r.latency.p50} | ${r.latency.p99} |`,
    ),
    '',
    '| contended, one key, ~1 ms work | workers | acquisitions/s | wait p50 ms | wait p99 ms | wait max ms | per worker min–max |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...result.contended.map(
      (r) =>
        `| ${r.name} | ${r.workers} | ${r.acquisitionsPerSecond} | ${r.wait.p50} | ${r.wait.p99} | ${r.wait.max} | ${r.perWorker.min}–${r.perWorker.max} |`,
    ),
  ];
  return lines.join('\n');
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const url = process.argv[2] ?? process.env['LOCK_BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  runRedisBench(url).then(
    (result) => console.log(formatRedisBench(result)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
