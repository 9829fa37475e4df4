import { randomBytes } from 'node:crypto';
import { connect } from '@lock/core';
import memjs from 'memjs';
import type { LockAdapter, Suite } from '../adapter.js';
import { ourAdapter } from '../adapters/ours.js';
import { startMemcached } from './servers.js';

const RETRY_MS = 10;

/**
 * memcached: @lock/memcached against a raw memjs `add` + plain `delete` loop, the speed limit
 * (unsafe as a lock: its delete is not owner-checked).
 */
export async function memcachedSuite(): Promise<Suite> {
  const server = await startMemcached();
  const hostPort = server.url.replace('memcached://', '');
  const stats = memjs.Client.create(hostPort);
  const requestCount = () =>
    new Promise<number>((resolve) => {
      let total = 0;
      stats.stats((_error, _server, values) => {
        if (values)
          total = [
            'cmd_get',
            'cmd_set',
            'cmd_touch',
            'delete_hits',
            'delete_misses',
            'incr_hits',
            'incr_misses',
          ].reduce((sum, name) => sum + Number(values[name] ?? 0), 0);
        resolve(total);
      });
    });
  return {
    name: 'memcached',
    notes: [
      'memcached 1.6.18 on loopback; memjs 1.3.2; the floor retries every 10 ms when contended',
    ],
    adapters: [
      ourAdapter('@lock/memcached', await connect(server.url, { ttl: 10_000 }), { requestCount }),
      rawFloor(hostPort, requestCount),
    ],
    teardown: async () => {
      stats.quit();
      await server.stop();
    },
  };
}

function rawFloor(hostPort: string, requestCount: () => Promise<number>): LockAdapter {
  const client = memjs.Client.create(hostPort);
  return {
    name: 'raw memjs add + delete (floor, unsafe)',
    keepalive: false,
    requestCount,
    acquire: async (key, { ttlMs, timeoutMs }) => {
      const token = randomBytes(16).toString('base64url');
      const deadline = performance.now() + timeoutMs;
      const expires = Math.ceil(ttlMs / 1000);
      while (!(await client.add(key, token, { expires }))) {
        if (performance.now() > deadline) throw new Error('timeout');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
      return { release: async () => void (await client.delete(key)) };
    },
    close: async () => client.quit(),
  };
}
