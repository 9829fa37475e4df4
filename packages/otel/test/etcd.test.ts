import { EtcdBackend } from '@lock/etcd';
import { etcdServerSpec, freePort, serverAvailable, startServer } from '@lock/testkit';
import { Etcd3 } from 'etcd3';
import { describeEventPaths } from './event-paths.js';

let raw: Etcd3 | undefined;

describeEventPaths({
  system: 'etcd',
  available: serverAvailable({
    name: 'ETCD',
    command: 'etcd',
    installHint: 'apt-get install etcd-server etcd-client',
  }),
  // Always a server of our own (never LOCK_TEST_ETCD_URL): the tests pause it.
  start: async () => {
    const given = process.env['LOCK_TEST_ETCD_URL'];
    delete process.env['LOCK_TEST_ETCD_URL'];
    try {
      const server = await startServer({ ...etcdServerSpec(), startTimeoutMs: 20_000 });
      raw = new Etcd3({ hosts: server.url });
      return server;
    } finally {
      if (given !== undefined) process.env['LOCK_TEST_ETCD_URL'] = given;
    }
  },
  backend: (server, namespace) =>
    new EtcdBackend({ hosts: server.url, prefix: `${namespace}/`, requestTimeoutMs: 500 }),
  unreachableBackend: async () =>
    new EtcdBackend({
      hosts: `http://127.0.0.1:${await freePort()}`,
      prefix: 'nowhere/',
      dialTimeoutMs: 500,
    }),
  // Every entry of the key (holder and waiters), as the etcd conformance test deletes it.
  forceDelete: async (_server, namespace, key) => {
    await raw?.delete().prefix(`${namespace}/${encodeURIComponent(key)}/`);
  },
  close: async () => {
    raw?.close();
  },
  // etcd grants leases in whole seconds, 1 s at least; 1.5 s leaves room for a 500 ms deadline.
  ttl: 1_500,
});
