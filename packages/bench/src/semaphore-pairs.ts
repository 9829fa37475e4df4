/**
 * Uncontended acquire + release of one permit, sequential, on one Redis server: `@lock/redis`'s
 * semaphore against its own mutex and redis-semaphore's Semaphore, in the same run, rounds
 * interleaved. Reports pairs/s (median of rounds) and server commands per pair (Redis
 * `INFO commandstats`, commands inside scripts included) and script calls (round trips) per pair.
 *
 * Run after `pnpm build`: `pnpm --filter @lock/bench exec tsx src/semaphore-pairs.ts`.
 * @module
 */
import { createLocker } from '@lock/core';
import { RedisBackend } from '@lock/redis';
import { redisServerSpec, startServer } from '@lock/testkit/servers';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { Semaphore } from 'redis-semaphore';
import { sumRedisCommandstats } from './server-counters.js';

const ROUND_MS = Number(process.env['BENCH_ROUND_MS'] ?? 2_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

const server = await startServer(redisServerSpec());
const stats = createClient({ url: server.url });
await stats.connect();
const locker = createLocker(new RedisBackend({ url: server.url }), { ttl: 10_000 });
const ioredis = new Redis(server.url);
const semaphore = locker.semaphore('bench:sem', { permits: 5 });

const columns: Record<string, () => Promise<void>> = {
  '@lock/redis mutex (tryLock + release)': async () => {
    const lock = await locker.tryLock('bench:mutex');
    await lock.release();
  },
  '@lock/redis semaphore, 1 of 5 permits (tryAcquire + release)': async () => {
    const permit = await semaphore.tryAcquire();
    await permit.release();
  },
  'redis-semaphore 5.8.0 Semaphore, limit 5 (acquire + release)': async () => {
    const peer = new Semaphore(ioredis, 'bench:rs', 5, { lockTimeout: 10_000 });
    await peer.acquire();
    await peer.release();
  },
};

async function counts(): Promise<{ all: number; scripts: number }> {
  const info = await stats.info('commandstats');
  const calls = (name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { all: sumRedisCommandstats(info), scripts: calls('evalsha') + calls('eval') };
}

const rates = new Map<string, number[]>();
const perPair = new Map<string, { all: number; scripts: number }>();
for (const pair of Object.values(columns)) for (let i = 0; i < 200; i += 1) await pair(); // warm-up
for (let round = 0; round < ROUNDS; round += 1) {
  const names = Object.keys(columns);
  const order = names.map((_, i) => names[(i + round) % names.length] as string);
  for (const name of order) {
    const pair = columns[name] as () => Promise<void>;
    const before = await counts();
    let pairs = 0;
    const started = performance.now();
    while (performance.now() - started < ROUND_MS) {
      await pair();
      pairs += 1;
    }
    const elapsed = performance.now() - started;
    const after = await counts();
    rates.set(name, [...(rates.get(name) ?? []), (pairs * 1000) / elapsed]);
    perPair.set(name, {
      all: (after.all - before.all) / pairs,
      scripts: (after.scripts - before.scripts) / pairs,
    });
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const base = median(rates.get(Object.keys(columns)[0] as string) ?? [0]);
for (const [name, xs] of rates) {
  const m = median(xs);
  const c = perPair.get(name);
  console.log(
    `${name}: ${m.toFixed(0)} pairs/s (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}) · ${(m / base).toFixed(2)}× · ${c?.all.toFixed(1)} server commands, ${c?.scripts.toFixed(1)} script calls per pair`,
  );
}
await locker.close();
ioredis.disconnect();
await stats.quit();
await server.stop();
