/**
 * Semaphores on memcached (core's compare-and-set fallback) against this package's mutex, in
 * the same run: uncontended acquire+release pairs per second through a Locker, and the server
 * commands each pair costs (from the server's `stats`, so nothing is guessed).
 *
 * Run from the package: `npx tsx --conditions=source bench/semaphore-bench.ts 127.0.0.1:11211`
 * (prints a markdown table). Fresh random keys; never flushes the server.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLocker, type Locker } from '@lock/core';
import { MemcachedBackend } from '../src/index.js';

type Pair = (key: string) => Promise<void>;

/** The workloads, in the order they take turns in each round. */
function workloads(locker: Locker): [string, Pair][] {
  return [
    ['mutex: tryLock + release', async (key) => (await locker.tryLock(key)).release()],
    [
      'semaphore of 1: tryAcquire + release',
      async (key) => (await locker.semaphore(key, { permits: 1 }).tryAcquire()).release(),
    ],
    [
      'semaphore of 5: tryAcquire(1) + release',
      async (key) => (await locker.semaphore(key, { permits: 5 }).tryAcquire()).release(),
    ],
    [
      'read-write lock: tryRead + release',
      async (key) => (await locker.readWriteLock(key).tryRead()).release(),
    ],
  ];
}

const ROUNDS = 5;
const COUNTED = ['cmd_get', 'cmd_set', 'cas_hits', 'incr_hits', 'incr_misses', 'delete_hits'];

/** Sum of the server's command counters. */
function serverCommands(hostPort: string): Promise<number> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve, reject) => {
    const socket = createConnection(Number(port), host as string, () => socket.write('stats\r\n'));
    let text = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (!text.endsWith('END\r\n')) return;
      socket.end();
      let sum = 0;
      for (const line of text.split('\r\n')) {
        const [tag, name, value] = line.split(' ');
        // cas_hits are counted under cmd_set too: only the commands themselves are summed.
        if (tag === 'STAT' && COUNTED.includes(name as string) && name !== 'cas_hits') {
          sum += Number(value);
        }
      }
      resolve(sum);
    });
  });
}

interface Measured {
  readonly rate: number;
  readonly commandsPerPair: number;
}

async function measure(hostPort: string, pair: Pair, durationMs: number): Promise<Measured> {
  const key = `sb-${randomBytes(6).toString('hex')}`;
  await pair(key); // the first pair creates what later ones reuse
  const before = await serverCommands(hostPort);
  const until = performance.now() + durationMs;
  const started = performance.now();
  let count = 0;
  while (performance.now() < until) {
    await pair(key);
    count += 1;
  }
  const elapsed = (performance.now() - started) / 1000;
  const commands = (await serverCommands(hostPort)) - before;
  return { rate: count / elapsed, commandsPerPair: commands / count };
}

/**
 * Pairs per second (median of {@link ROUNDS} interleaved rounds, with min–max) and server
 * commands per pair, one pair in flight, for each workload.
 */
export async function runSemaphoreBench(hostPort: string, durationMs = 1_500) {
  const prefix = `sbench-${randomBytes(4).toString('hex')}:`;
  const locker = createLocker(new MemcachedBackend({ servers: [hostPort], keyPrefix: prefix }), {
    ttl: 10_000,
  });
  try {
    const list = workloads(locker);
    const runs = list.map(() => [] as Measured[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [, pair]] of list.entries()) {
        runs[i]?.push(await measure(hostPort, pair, durationMs));
      }
    }
    return list.map(([name], i) => {
      const rates = (runs[i] ?? []).map((m) => m.rate).sort((a, b) => a - b);
      const commands = (runs[i] ?? []).map((m) => m.commandsPerPair).sort((a, b) => a - b);
      return {
        name,
        median: rates[ROUNDS >> 1] ?? 0,
        min: rates[0] ?? 0,
        max: rates[ROUNDS - 1] ?? 0,
        commandsPerPair: commands[ROUNDS >> 1] ?? 0,
      };
    });
  } finally {
    await locker.close();
  }
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
  runSemaphoreBench(hostPort).then(
    (rows) => {
      const n = (v: number) => Math.round(v).toLocaleString('en-US');
      const mutex = rows[0]?.median ?? 1;
      console.log(
        '| workload, 1 in flight | pairs/s (min–max) | vs mutex | server commands per pair |',
      );
      console.log('|---|---:|---:|---:|');
      for (const row of rows) {
        console.log(
          `| ${row.name} | ${n(row.median)} (${n(row.min)}–${n(row.max)}) | ${(row.median / mutex).toFixed(2)}× | ${row.commandsPerPair.toFixed(2)} |`,
        );
      }
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
