/**
 * Benchmark of `@lock/etcd` against a running etcd, and of the `etcd3` driver's own
 * `client.lock()` helper for comparison. Run from the package:
 *
 *     npx tsx --conditions=source bench/etcd-bench.ts http://127.0.0.1:2379
 *
 * Every run writes under a fresh random prefix and deletes nothing else.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createLocker, type LockBackend, type Locker } from '@lock/core';
import { Etcd3, EtcdLockFailedError } from 'etcd3';
import { EtcdBackend } from '../src/index.js';

/** What one {@link runEtcdBench} run measured. */
export interface EtcdBenchResult {
  readonly endpoint: string;
  /** Uncontended tryLock + release pairs per second, one at a time. */
  readonly uncontendedSerialPerSec: number;
  /** Uncontended lock + release pairs per second, 50 keys in parallel. */
  readonly uncontendedParallel50PerSec: number;
  /** Ten workers on one key through `lock()` (the fair queue). */
  readonly contended: ContendedResult;
  /** The `etcd3` driver's `client.lock()`: one at a time, uncontended. */
  readonly driverUncontendedSerialPerSec: number;
  /** The driver's `client.lock()`, ten workers on one key, polled every 10 ms (it never waits). */
  readonly driverContended: ContendedResult;
  /** 10,000 locks held by one session. */
  readonly manyLocks: ManyLocksResult;
}

/** Throughput and wait times of contended acquisition. */
export interface ContendedResult {
  readonly acquisitionsPerSec: number;
  readonly waitP50Ms: number;
  readonly waitP99Ms: number;
  readonly waitMaxMs: number;
}

/** Cost of holding many locks in one session. */
export interface ManyLocksResult {
  readonly locks: number;
  readonly acquireSeconds: number;
  /** Lease keepalive messages per second while they are held (one renews all of them). */
  readonly keepalivesPerSec: number;
  /** Heap growth per held lock, in bytes (core's handle plus this backend's record). */
  readonly heapBytesPerLock: number;
}

const PHASE_MS = 3_000;
const MANY = 10_000;

/**
 * Runs every measurement against `endpoint` (such as `http://127.0.0.1:2379`) and returns
 * the numbers. Takes about 30 s.
 */
export async function runEtcdBench(endpoint: string): Promise<EtcdBenchResult> {
  const hosts = endpoint.includes('://') ? endpoint : `http://${endpoint}`;
  const prefix = `bench-${randomBytes(4).toString('hex')}/`;
  const open = (identity: string, ttl = 10_000) =>
    createLocker(new EtcdBackend({ hosts, prefix }), { ttl, identity, onError: () => {} });

  const serial = open('serial');
  const uncontendedSerialPerSec = await rate(PHASE_MS, 1, async (i) => {
    const lock = await serial.tryLock(`serial-${i % 16}`);
    await lock.release();
  });
  await serial.close();

  const parallel = open('parallel');
  const uncontendedParallel50PerSec = await rate(PHASE_MS, 50, async (_i, worker) => {
    const lock = await parallel.lock(`parallel-${worker}`);
    await lock.release();
  });
  await parallel.close();

  const workers = Array.from({ length: 10 }, (_, i) => open(`worker-${i}`));
  const contended = await contend(PHASE_MS, 10, async (worker) => {
    const lock = await (workers[worker] as Locker).lock('contended');
    return () => lock.release();
  });
  await Promise.all(workers.map((w) => w.close()));

  const driver = new Etcd3({ hosts });
  const driverUncontendedSerialPerSec = await rate(PHASE_MS, 1, async (i) => {
    const lock = driver.lock(`${prefix}driver-serial-${i % 16}`).ttl(10);
    await lock.acquire();
    await lock.release();
  });
  const driverContended = await contend(PHASE_MS, 10, async () => {
    for (;;) {
      const lock = driver.lock(`${prefix}driver-contended`).ttl(10);
      try {
        await lock.acquire();
        return () => lock.release();
      } catch (error) {
        if (!(error instanceof EtcdLockFailedError)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  });
  driver.close();

  const many = new EtcdBackend({ hosts, prefix });
  const manyLocks = await holdMany(many, () => many.stats.keepalives);
  return {
    endpoint: hosts,
    uncontendedSerialPerSec,
    uncontendedParallel50PerSec,
    contended,
    driverUncontendedSerialPerSec,
    driverContended,
    manyLocks,
  };
}

/** Runs `task` on `workers` loops for `ms`; returns completed tasks per second. */
export async function rate(
  ms: number,
  workers: number,
  task: (iteration: number, worker: number) => Promise<void>,
): Promise<number> {
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() - started < ms) {
        await task(done, worker);
        done += 1;
      }
    }),
  );
  return round((done * 1000) / (performance.now() - started));
}

/** `workers` loops that each take the lock (timing the wait) and give it back, for `ms`. */
export async function contend(
  ms: number,
  workers: number,
  take: (worker: number) => Promise<() => Promise<unknown>>,
): Promise<ContendedResult> {
  const waits: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() - started < ms) {
        const asked = performance.now();
        const release = await take(worker);
        waits.push(performance.now() - asked);
        await release();
      }
    }),
  );
  waits.sort((a, b) => a - b);
  const at = (q: number) =>
    round(waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] ?? 0);
  return {
    acquisitionsPerSec: round((waits.length * 1000) / (performance.now() - started)),
    waitP50Ms: at(0.5),
    waitP99Ms: at(0.99),
    waitMaxMs: round(waits[waits.length - 1] ?? 0),
  };
}

/**
 * Takes {@link MANY} locks through `backend` in one locker (TTL `ttlMs`) and watches what
 * keeping them costs; `keepalives` reads the backend's count of keepalive messages sent.
 * Closes the backend.
 */
export async function holdMany(
  backend: LockBackend,
  keepalives: () => number,
  ttlMs = 3_000,
): Promise<ManyLocksResult> {
  const locker = createLocker(backend, { ttl: ttlMs, identity: 'many', onError: () => {} });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const held = [];
  for (let i = 0; i < MANY; i += 200) {
    held.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(200, MANY - i) }, (_, j) => locker.tryLock(`many-${i + j}`)),
      )),
    );
  }
  const acquireSeconds = round((performance.now() - started) / 1000);
  gc?.();
  const heapBytesPerLock = Math.round((process.memoryUsage().heapUsed - heapBefore) / MANY);
  const before = keepalives();
  const watchFrom = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  const keepalivesPerSec = round(
    ((keepalives() - before) * 1000) / (performance.now() - watchFrom),
  );
  const lost = held.filter((lock) => !lock.held).length;
  if (lost > 0) throw new Error(`${lost} of ${MANY} locks were lost while held`);
  await locker.close();
  return { locks: MANY, acquireSeconds, keepalivesPerSec, heapBytesPerLock };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The result as a markdown table. */
export function toMarkdown(result: EtcdBenchResult): string {
  const rows: [string, string][] = [
    ['uncontended tryLock+release, 1 in flight', `${result.uncontendedSerialPerSec} pairs/s`],
    [
      'uncontended lock+release, 50 keys in parallel',
      `${result.uncontendedParallel50PerSec} pairs/s`,
    ],
    [
      '10 workers on one key, `lock()` (fair queue)',
      `${result.contended.acquisitionsPerSec} acq/s; wait p50 ${result.contended.waitP50Ms} ms, p99 ${result.contended.waitP99Ms} ms, max ${result.contended.waitMaxMs} ms`,
    ],
    ['etcd3 `client.lock()`, 1 in flight', `${result.driverUncontendedSerialPerSec} pairs/s`],
    [
      'etcd3 `client.lock()`, 10 workers on one key, polled every 10 ms',
      `${result.driverContended.acquisitionsPerSec} acq/s; wait p50 ${result.driverContended.waitP50Ms} ms, p99 ${result.driverContended.waitP99Ms} ms, max ${result.driverContended.waitMaxMs} ms`,
    ],
    [
      `${result.manyLocks.locks} locks held by one session (ttl 3 s)`,
      `taken in ${result.manyLocks.acquireSeconds} s; ${result.manyLocks.keepalivesPerSec} keepalive msgs/s; ${result.manyLocks.heapBytesPerLock} B heap per lock`,
    ],
  ];
  return [
    `etcd at ${result.endpoint}`,
    '',
    '| measurement | result |',
    '|---|---|',
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runEtcdBench(process.argv[2] ?? 'http://127.0.0.1:2379').then(
    (result) => {
      console.log(toMarkdown(result));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
