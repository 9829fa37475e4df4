import { connect } from '@lock/core';
import { Redis as IORedis } from 'ioredis';
import { createClient } from 'redis';
import { Mutex as SemaphoreMutex } from 'redis-semaphore';
import Redlock4 from 'redlock';
import { createLock, NodeRedisAdapter } from 'redlock-universal';
import Redlock5 from 'redlock5';
import type { LockAdapter, Suite } from '../adapter.js';
import { ourAdapter } from '../adapters/ours.js';
import { rawNodeRedis } from '../adapters/raw-node-redis.js';
import { startRedis } from './servers.js';

/** Peers that poll: a 10 ms retry for up to the workload's 10 s timeout (their best case here). */
const RETRY_MS = 10;

/**
 * Redis: @lock/redis (fair FIFO; `fair: false` is deprecated and the same) against redlock 4.2.0,
 * redlock 5.0.0-beta.2 (ioredis), redlock-universal (node-redis), redis-semaphore (ioredis) and a
 * raw SET NX PX + EVALSHA delete loop on node-redis (adapters/raw-node-redis.ts). One redis-server for all;
 * pnpm bench adds redis-benchmark, the server's own floor, as a column of its own.
 */
export async function redisSuite(): Promise<Suite> {
  const server = await startRedis();
  const url = server.url;
  const counter = createClient({ url });
  await counter.connect();
  // Client requests, not commands: INFO counts the commands a script runs inside it too (even
  // per command in commandstats). While locks are only held, ours send extend scripts and the
  // peers send nothing, so script calls and plain SETs are the requests.
  const requestCount = async () => {
    const info = await counter.info('commandstats');
    let calls = 0;
    for (const name of ['eval', 'evalsha', 'set']) {
      calls += Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    }
    return calls;
  };
  const adapters: LockAdapter[] = [
    ourAdapter('@lock/redis', await connect(url, { ttl: 10_000 }), { requestCount }),
    await rawNodeRedis(url, RETRY_MS, requestCount),
    redlock4(url, requestCount),
    redlock5(url, requestCount),
    await redlockUniversal(url, requestCount),
    redisSemaphore(url, requestCount),
  ];
  return {
    name: 'redis',
    notes: [
      'redis-server 7.0.15 on loopback, no persistence; node-redis 6.3.1, ioredis 5.9.2',
      `equal footing: polling peers retry every ${RETRY_MS} ms for up to 10 s; defaults: redlock 4 and 5 retry 10 times every 200 ms ± 100 ms, redlock-universal 3 times every 100 ms (redis-semaphore's default is already 10 ms)`,
      'peers hold the 10,000 locks without keepalive (none renews a batch); ours renews them with keepalive on',
    ],
    adapters,
    teardown: async () => {
      await counter.quit().catch(() => {});
      await server.stop();
    },
  };
}

/** Equal footing for redlock: retry every RETRY_MS for up to the workload's 10 s. */
const REDLOCK_EQUAL = { retryCount: 1000, retryDelay: RETRY_MS, retryJitter: 5 };

function redlock4(
  url: string,
  requestCount: () => Promise<number>,
  options: Record<string, number> = REDLOCK_EQUAL,
): LockAdapter {
  const client = new IORedis(url);
  const redlock = new Redlock4([client], options);
  redlock.on('clientError', () => {});
  return {
    name: 'redlock 4.2.0',
    keepalive: false,
    withDefaults: async () => redlock4(url, requestCount, {}),
    requestCount,
    acquire: async (key, { ttlMs }) => {
      const lock = await redlock.lock(key, ttlMs);
      return { release: async () => void (await lock.unlock()) };
    },
    close: async () => void client.disconnect(),
  };
}

function redlock5(
  url: string,
  requestCount: () => Promise<number>,
  options: Record<string, number> = REDLOCK_EQUAL,
): LockAdapter {
  const client = new IORedis(url);
  const redlock = new Redlock5([client], options);
  redlock.on('error', () => {});
  return {
    name: 'redlock 5.0.0-beta.2',
    keepalive: false,
    withDefaults: async () => redlock5(url, requestCount, {}),
    requestCount,
    acquire: async (key, { ttlMs }) => {
      const lock = await redlock.acquire([key], ttlMs);
      return { release: async () => void (await lock.release()) };
    },
    close: async () => void client.disconnect(),
  };
}

async function redlockUniversal(
  url: string,
  requestCount: () => Promise<number>,
  defaults = false,
): Promise<LockAdapter> {
  const client = createClient({ url });
  await client.connect();
  const adapter = new NodeRedisAdapter(client as never);
  return {
    name: 'redlock-universal 0.8.5',
    keepalive: false,
    withDefaults: () => redlockUniversal(url, requestCount, true),
    requestCount,
    acquire: async (key, { ttlMs, timeoutMs }) => {
      const lock = createLock({
        adapter,
        key,
        ttl: ttlMs,
        ...(defaults
          ? {}
          : { retryAttempts: Math.ceil(timeoutMs / RETRY_MS), retryDelay: RETRY_MS }),
      });
      const handle = await lock.acquire();
      return { release: async () => void (await lock.release(handle)) };
    },
    close: async () => void (await client.quit()),
  };
}

function redisSemaphore(url: string, requestCount: () => Promise<number>): LockAdapter {
  const client = new IORedis(url);
  return {
    name: 'redis-semaphore 5.8.0',
    keepalive: false,
    requestCount,
    acquire: async (key, { ttlMs, timeoutMs }) => {
      const mutex = new SemaphoreMutex(client, key, {
        lockTimeout: ttlMs,
        acquireTimeout: timeoutMs,
        retryInterval: RETRY_MS,
        refreshInterval: 0,
      });
      await mutex.acquire();
      return { release: () => mutex.release() };
    },
    close: async () => void client.disconnect(),
  };
}
