/**
 * Benchmark of `@lock/memcached` against the floor of a raw memjs `add` + plain `delete` loop.
 *
 * Run from the package: `npx tsx --conditions=source bench/memcached-bench.ts 127.0.0.1:11211`
 * (prints a markdown table). Each scenario uses fresh random keys, so it never disturbs other
 * data and never flushes the server.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLocker, type Locker } from '@lock/core';
import { Client } from 'memjs';
import { MemcachedBackend } from '../src/index.js';

/** Options of {@link runMemcachedBench}. */
export interface BenchOptions {
  /** How long each measured scenario runs (per column), in ms. @default 5000 */
  readonly durationMs?: number;
  /** Keys worked on in parallel in the parallel scenario. @default 50 */
  readonly parallelKeys?: number;
  /** Workers contending for one key in the handoff scenario. @default 10 */
  readonly contenders?: number;
}

/** Throughput of one uncontended scenario, in acquire+release pairs per second. */
export interface ThroughputRow {
  readonly backend: number;
  readonly locker: number;
  readonly floor: number;
  /** floor / backend: how many times slower than the floor the backend is. */
  readonly slowdown: number;
  /**
   * This process's CPU time per pair, in µs (user + system): steadier than throughput on a
   * loaded machine, and what limits throughput once requests are pipelined.
   */
  readonly cpuUsPerPair: {
    readonly backend: number;
    readonly locker: number;
    readonly floor: number;
  };
}

/** One side of the contended handoff scenario. */
export interface HandoffStats {
  readonly handoffsPerSec: number;
  readonly waitP50Ms: number;
  readonly waitP99Ms: number;
  readonly waitMaxMs: number;
  /** Fewest and most acquisitions of any one worker. */
  readonly perWorkerMin: number;
  readonly perWorkerMax: number;
}

/** Everything {@link runMemcachedBench} measured. */
export interface BenchResult {
  readonly server: string;
  readonly durationMs: number;
  readonly sequential: ThroughputRow;
  readonly parallel: ThroughputRow & { readonly keys: number };
  readonly handoff: {
    readonly contenders: number;
    readonly locker: HandoffStats;
    readonly floor: HandoffStats;
  };
}

const TTL_MS = 10_000;
const WARMUP_MS = 1_000;

/**
 * Measures uncontended acquire+release pairs per second (1 in flight, then `parallelKeys` keys
 * in parallel) and a contended handoff on one key (`contenders` workers: wait p50/p99/max and
 * per-worker spread), for this package (straight on the backend, and through core's Locker)
 * and for a raw memjs `add` + `delete` loop as the floor.
 * @example
 * ```ts
 * const result = await runMemcachedBench('127.0.0.1:11211', { durationMs: 2_000 });
 * console.log(result.sequential.slowdown);
 * ```
 */
export async function runMemcachedBench(
  hostPort: string,
  options: BenchOptions = {},
): Promise<BenchResult> {
  const durationMs = options.durationMs ?? 5_000;
  const keys = options.parallelKeys ?? 50;
  const contenders = options.contenders ?? 10;
  const prefix = `bench-${randomBytes(4).toString('hex')}:`;
  const backend = new MemcachedBackend({ servers: [hostPort], keyPrefix: prefix });
  const locker = createLocker(new MemcachedBackend({ servers: [hostPort], keyPrefix: prefix }));
  const raw = Client.create(hostPort, { logger: { log() {} }, timeout: 1, retries: 1 });
  try {
    const backendPair = pairOnBackend(backend);
    const lockerPair = pairOnLocker(locker);
    const floorPair = pairOnRaw(raw, prefix);
    const sequential = await compare([backendPair, lockerPair, floorPair], 1, durationMs);
    const parallel = await compare([backendPair, lockerPair, floorPair], keys, durationMs);
    const handoff = {
      contenders,
      locker: await handoffOnLockers(hostPort, prefix, contenders, durationMs),
      floor: await handoffOnRaw(hostPort, prefix, contenders, durationMs),
    };
    return {
      server: hostPort,
      durationMs,
      sequential: { ...sequential, slowdown: sequential.floor / sequential.backend },
      parallel: { ...parallel, keys, slowdown: parallel.floor / parallel.backend },
      handoff,
    };
  } finally {
    await backend.close();
    await locker.close();
    raw.close();
  }
}

type Pair = (key: string, i: number) => Promise<void>;

function pairOnBackend(backend: MemcachedBackend): Pair {
  return async (key, i) => {
    const owner = `bench.${i}`;
    const taken = await backend.acquire({ key, owner, ttlMs: TTL_MS });
    if (!taken.acquired) throw new Error(`uncontended acquire of ${key} failed`);
    const released = await backend.release({ key, owner });
    if (released !== 'ok') throw new Error(`release of ${key} gave ${released}`);
  };
}

function pairOnLocker(locker: Locker): Pair {
  return async (key) => {
    const lock = await locker.tryLock(key, { ttl: TTL_MS });
    await lock.release();
  };
}

function pairOnRaw(raw: Client, prefix: string): Pair {
  return async (key, i) => {
    const full = `${prefix}raw:${key}`;
    if (!(await raw.add(full, `bench.${i}`, { expires: TTL_MS / 1000 }))) {
      throw new Error(`uncontended add of ${full} failed`);
    }
    await raw.delete(full);
  };
}

const ROUNDS = 5;

/**
 * Pairs per second of backend, locker and floor, measured in {@link ROUNDS} interleaved rounds
 * (median of each), so that load from elsewhere on the machine hits all three alike.
 */
async function compare(
  [backend, locker, floor]: readonly [Pair, Pair, Pair],
  lanes: number,
  durationMs: number,
): Promise<Omit<ThroughputRow, 'slowdown'>> {
  const pairs = [backend, locker, floor];
  const runs: Measured[][] = [[], [], []];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, pair] of pairs.entries()) {
      runs[i]?.push(await throughput(pair, lanes, durationMs / ROUNDS));
    }
  }
  const median = (i: number, field: keyof Measured) =>
    (runs[i] ?? []).map((m) => m[field]).sort((a, b) => a - b)[ROUNDS >> 1] ?? 0;
  return {
    backend: median(0, 'rate'),
    locker: median(1, 'rate'),
    floor: median(2, 'rate'),
    cpuUsPerPair: {
      backend: median(0, 'cpuUsPerPair'),
      locker: median(1, 'cpuUsPerPair'),
      floor: median(2, 'cpuUsPerPair'),
    },
  };
}

interface Measured {
  readonly rate: number;
  readonly cpuUsPerPair: number;
}

/** Pairs per second with `lanes` keys worked on in parallel, one pair in flight per key. */
async function throughput(pair: Pair, lanes: number, durationMs: number): Promise<Measured> {
  const run = async (ms: number) => {
    const until = performance.now() + ms;
    let count = 0;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        const key = `k-${randomBytes(6).toString('hex')}`;
        for (let i = 0; performance.now() < until; i++) {
          await pair(key, i);
          count += 1;
        }
      }),
    );
    return count;
  };
  await run(WARMUP_MS / ROUNDS);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const count = await run(durationMs);
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { rate: count / elapsed, cpuUsPerPair: (used.user + used.system) / Math.max(1, count) };
}

/** `contenders` lockers (one connection each, as separate processes) take turns on one key. */
async function handoffOnLockers(
  hostPort: string,
  prefix: string,
  contenders: number,
  durationMs: number,
): Promise<HandoffStats> {
  const lockers = Array.from({ length: contenders }, () =>
    createLocker(new MemcachedBackend({ servers: [hostPort], keyPrefix: prefix })),
  );
  try {
    const key = `handoff-${randomBytes(6).toString('hex')}`;
    return await handoff(contenders, durationMs, async (worker) => {
      const lock = await (lockers[worker] as Locker).lock(key, { ttl: TTL_MS, timeout: 30_000 });
      await new Promise((resolve) => setImmediate(resolve));
      await lock.release();
    });
  } finally {
    await Promise.all(lockers.map((l) => l.close()));
  }
}

/** The floor: raw `add` retried with core's default backoff (2–100 ms, full jitter), then `delete`. */
async function handoffOnRaw(
  hostPort: string,
  prefix: string,
  contenders: number,
  durationMs: number,
): Promise<HandoffStats> {
  const clients = Array.from({ length: contenders }, () =>
    Client.create(hostPort, { logger: { log() {} }, timeout: 1, retries: 1 }),
  );
  try {
    const key = `${prefix}raw-handoff-${randomBytes(6).toString('hex')}`;
    return await handoff(contenders, durationMs, async (worker) => {
      const client = clients[worker] as Client;
      for (let attempt = 0; !(await client.add(key, `w${worker}`, { expires: 10 })); attempt++) {
        const ceiling = Math.min(100, 2 * 2 ** Math.min(attempt, 30));
        await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * (ceiling - 2)));
      }
      await new Promise((resolve) => setImmediate(resolve));
      await client.delete(key);
    });
  } finally {
    for (const client of clients) client.close();
  }
}

async function handoff(
  contenders: number,
  durationMs: number,
  turn: (worker: number) => Promise<void>,
): Promise<HandoffStats> {
  const waits: number[] = [];
  const perWorker = new Array<number>(contenders).fill(0);
  const until = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: contenders }, async (_, worker) => {
      while (performance.now() < until) {
        const asked = performance.now();
        await turn(worker);
        waits.push(performance.now() - asked);
        perWorker[worker] = (perWorker[worker] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  waits.sort((a, b) => a - b);
  const at = (q: number) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] ?? 0;
  return {
    handoffsPerSec: waits.length / elapsed,
    waitP50Ms: at(0.5),
    waitP99Ms: at(0.99),
    waitMaxMs: waits[waits.length - 1] ?? 0,
    perWorkerMin: Math.min(...perWorker),
    perWorkerMax: Math.max(...perWorker),
  };
}

/** The result as a markdown table. */
export function formatBench(result: BenchResult): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const ms = (v: number) => v.toFixed(1);
  const c = (v: number) => v.toFixed(1);
  const h = result.handoff;
  return [
    `memcached at ${result.server}, ${result.durationMs} ms per scenario and column (uncontended: median of ${ROUNDS} interleaved rounds)`,
    '',
    '| scenario | @lock/memcached backend | through core Locker | raw memjs add+delete (floor) | backend vs floor |',
    '|---|---:|---:|---:|---:|',
    `| uncontended pairs/s, 1 in flight | ${n(result.sequential.backend)} | ${n(result.sequential.locker)} | ${n(result.sequential.floor)} | ${result.sequential.slowdown.toFixed(2)}× |`,
    `| uncontended pairs/s, ${result.parallel.keys} keys in parallel | ${n(result.parallel.backend)} | ${n(result.parallel.locker)} | ${n(result.parallel.floor)} | ${result.parallel.slowdown.toFixed(2)}× |`,
    `| client CPU µs per pair, 1 in flight | ${c(result.sequential.cpuUsPerPair.backend)} | ${c(result.sequential.cpuUsPerPair.locker)} | ${c(result.sequential.cpuUsPerPair.floor)} | ${(result.sequential.cpuUsPerPair.backend / result.sequential.cpuUsPerPair.floor).toFixed(2)}× |`,
    `| client CPU µs per pair, ${result.parallel.keys} keys in parallel | ${c(result.parallel.cpuUsPerPair.backend)} | ${c(result.parallel.cpuUsPerPair.locker)} | ${c(result.parallel.cpuUsPerPair.floor)} | ${(result.parallel.cpuUsPerPair.backend / result.parallel.cpuUsPerPair.floor).toFixed(2)}× |`,
    '',
    `| contended handoff, ${h.contenders} workers on one key | core Locker (backoff) | raw add loop, same backoff (floor) |`,
    '|---|---:|---:|',
    `| handoffs/s | ${n(h.locker.handoffsPerSec)} | ${n(h.floor.handoffsPerSec)} |`,
    `| wait p50 / p99 / max (ms) | ${ms(h.locker.waitP50Ms)} / ${ms(h.locker.waitP99Ms)} / ${ms(h.locker.waitMaxMs)} | ${ms(h.floor.waitP50Ms)} / ${ms(h.floor.waitP99Ms)} / ${ms(h.floor.waitMaxMs)} |`,
    `| acquisitions per worker (min–max) | ${h.locker.perWorkerMin}–${h.locker.perWorkerMax} | ${h.floor.perWorkerMin}–${h.floor.perWorkerMax} |`,
  ].join('\n');
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const hostPort = process.argv[2] ?? '127.0.0.1:11211';
  runMemcachedBench(hostPort).then(
    (result) => console.log(formatBench(result)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
