/**
 * Uncontended acquire + release of one permit against the mutex, in one run: pairs per second
 * and gRPC messages etcd received per pair (its `/metrics`), for `tryLock`, a semaphore's
 * `tryAcquire` and `acquire`, and a read-write lock's `tryRead`, each phase in its turn over
 * `ROUNDS` interleaved rounds (medians, with min–max). Run from the package:
 *
 *     npx tsx --conditions=source bench/semaphore-pairs.ts http://127.0.0.1:2379
 *
 * Every run writes under a fresh random prefix and deletes nothing else.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createLocker, type Locker } from '@lock/core';
import { EtcdBackend } from '../src/index.js';

const PHASE_MS = 1_500;
const ROUNDS = 3;

/** gRPC messages etcd received so far (as `hot-path.ts` counts them, which runs on import). */
async function messagesReceived(hosts: string): Promise<number> {
  const metrics = await (await fetch(`${hosts}/metrics`)).text();
  let total = 0;
  for (const [, value] of metrics.matchAll(/^grpc_server_msg_received_total\{[^}]*\} (\S+)$/gm))
    total += Number(value);
  return total;
}

type Pair = (locker: Locker, i: number) => Promise<void>;

const phases: [string, Pair][] = [
  ['mutex tryLock + release', async (l, i) => (await l.tryLock(`m-${i % 16}`)).release()],
  [
    'semaphore tryAcquire + release',
    async (l, i) => (await l.semaphore(`s-${i % 16}`, { permits: 4 }).tryAcquire()).release(),
  ],
  [
    'semaphore acquire + release',
    async (l, i) => (await l.semaphore(`a-${i % 16}`, { permits: 4 }).acquire()).release(),
  ],
  [
    'read-write tryRead + release',
    async (l, i) => (await l.readWriteLock(`r-${i % 16}`).tryRead()).release(),
  ],
];

async function measure(hosts: string, pair: Pair): Promise<{ rate: number; messages: number }> {
  const prefix = `sem-bench-${randomBytes(4).toString('hex')}/`;
  const locker = createLocker(new EtcdBackend({ hosts, prefix }), { ttl: 10_000 });
  try {
    await pair(locker, 0); // the lease and the connection
    const before = await messagesReceived(hosts);
    let pairs = 0;
    const started = performance.now();
    while (performance.now() - started < PHASE_MS) await pair(locker, pairs++);
    const elapsed = performance.now() - started;
    const messages = (await messagesReceived(hosts)) - before;
    return { rate: (pairs * 1000) / elapsed, messages: messages / pairs };
  } finally {
    await locker.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;

async function main(hosts: string): Promise<void> {
  const results = new Map<string, { rate: number[]; messages: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, pair] of phases) {
      const { rate, messages } = await measure(hosts, pair);
      const entry = results.get(name) ?? { rate: [], messages: [] };
      entry.rate.push(rate);
      entry.messages.push(messages);
      results.set(name, entry);
    }
  }
  const mutex = median(results.get(phases[0]?.[0] as string)?.rate ?? []);
  console.log('| pair (1 in flight) | pairs/s | ÷ mutex | gRPC messages per pair |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, { rate, messages }] of results) {
    const span = `${Math.round(Math.min(...rate))}–${Math.round(Math.max(...rate))}`;
    console.log(
      `| ${name} | ${Math.round(median(rate))} (${span}) | ${(median(rate) / mutex).toFixed(2)} | ${median(messages).toFixed(2)} |`,
    );
  }
}

await main(process.argv[2] ?? 'http://127.0.0.1:2379');
