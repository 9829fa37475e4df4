import { connect } from '@lock/core';
import { Etcd3 } from 'etcd3';
import type { LockAdapter, Suite } from '../adapter.js';
import { ourAdapter } from '../adapters/ours.js';
import { startEtcd } from './servers.js';

const RETRY_MS = 10;

/**
 * etcd: @lock/etcd against the etcd3 driver's own `client.lock()` helper, which tries once
 * (granting and revoking a lease each time) and so is polled here every 10 ms.
 */
export async function etcdSuite(): Promise<Suite> {
  const server = await startEtcd();
  const endpoint = server.url.replace('etcd://', 'http://');
  // gRPC messages the server received (keepalive messages included), from etcd's own metrics.
  const requestCount = async () => {
    const metrics = await (await fetch(`${endpoint}/metrics`)).text();
    let total = 0;
    for (const [, value] of metrics.matchAll(/^grpc_server_msg_received_total\{[^}]*\} (\S+)$/gm))
      total += Number(value);
    return total;
  };
  return {
    name: 'etcd',
    notes: [
      'etcd 3.4.23, one member on loopback, data dir on tmpfs (/dev/shm: fsync is cheap, as on a fast SSD); etcd3 1.1.2',
      'the etcd3 helper is polled every 10 ms',
    ],
    adapters: [
      ourAdapter('@lock/etcd', await connect(server.url, { ttl: 10_000 }), { requestCount }),
      helper(endpoint, requestCount),
    ],
    teardown: () => server.stop(),
  };
}

function helper(endpoint: string, requestCount: () => Promise<number>): LockAdapter {
  const client = new Etcd3({ hosts: endpoint });
  return {
    name: 'etcd3 client.lock() (polled)',
    keepalive: true,
    requestCount,
    acquire: async (key, { ttlMs, timeoutMs }) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const lock = client.lock(key).ttl(Math.max(1, Math.ceil(ttlMs / 1000)));
        try {
          await lock.acquire();
          return { release: async () => void (await lock.release()) };
        } catch (error) {
          if (performance.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    },
    close: async () => client.close(),
  };
}
