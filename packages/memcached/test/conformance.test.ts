import { type RunningServer, runConformanceSuite } from '@lock/testkit';
import { Client } from 'memjs';
import { itemKeys, MemcachedBackend } from '../src/index.js';
import { closedPort } from './helpers.js';
import { describeMemcached, startMemcached } from './memcached-server.js';

describeMemcached('memcached', () => {
  let server: RunningServer;
  let raw: Client;
  beforeAll(async () => {
    server = await startMemcached();
    raw = Client.create(server.url, { logger: { log() {} } });
  });
  afterAll(async () => {
    raw?.close();
    await server?.stop();
  });

  runConformanceSuite({
    name: 'memcached',
    createBackend: async (namespace) =>
      new MemcachedBackend({ servers: [server.url], keyPrefix: `${namespace}:` }),
    forceDelete: async (namespace, key) => {
      await raw.delete(itemKeys(`${namespace}:`, key).lock);
    },
    createUnreachableBackend: async () =>
      new MemcachedBackend({ servers: [`127.0.0.1:${await closedPort()}`] }),
    // Whole-second expiry: the server keeps an item ceil(ttl / 1000) to ceil(ttl / 1000) + 1
    // seconds (this package adds a second), so up to ~1 s past the TTL, plus memcached's clock
    // tick, which runs late on a loaded machine.
    capabilities: { minTtlMs: 1000, expirySlackMs: 1250, semaphores: true },
  });
});
