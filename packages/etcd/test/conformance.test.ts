import { afterAll, beforeAll, describe } from '@jest/globals';
import { freePort, type RunningServer, runConformanceSuite, serverAvailable } from '@lock/testkit';
import { Etcd3 } from 'etcd3';
import { EtcdBackend } from '../src/index.js';
import { ETCD, startEtcd } from './etcd-server.js';

const available = serverAvailable(ETCD);

(available ? describe : describe.skip)('etcd conformance', () => {
  let server: RunningServer;
  let raw: Etcd3;
  const prefixOf = (namespace: string) => `${namespace}/`;

  beforeAll(async () => {
    server = await startEtcd();
    raw = new Etcd3({ hosts: server.url });
  }, 30_000);
  afterAll(async () => {
    raw?.close();
    await server?.stop();
  });

  runConformanceSuite({
    name: 'etcd',
    createBackend: async (namespace) =>
      new EtcdBackend({ hosts: server.url, prefix: prefixOf(namespace) }),
    // Delete every entry of the key (holder and waiters) with a raw client, behind their backs.
    forceDelete: async (namespace, key) => {
      await raw.delete().prefix(`${prefixOf(namespace)}${encodeURIComponent(key)}/`);
    },
    createUnreachableBackend: async () =>
      new EtcdBackend({ hosts: `http://127.0.0.1:${await freePort()}`, prefix: 'nowhere/' }),
    // Election timeout 250 ms → etcd's smallest lease is 375 ms, granted as whole seconds: 1 s.
    // etcd's lessor revokes expired leases on a 500 ms loop, so expiry shows up to ~0.7 s late.
    // A shorter extend() keeps the lock on its lease, whose TTL never shrinks.
    capabilities: {
      minTtlMs: 1_000,
      expirySlackMs: 700,
      extendShortensTtl: false,
      semaphores: true,
    },
  });
});
