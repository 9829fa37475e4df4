import { lockKeys, RedisBackend } from '@lock/redis';
import { freePort, redisServerSpec, serverAvailable, startServer } from '@lock/testkit';
import { createClient } from 'redis';
import { describeEventPaths } from './event-paths.js';

let raw: ReturnType<typeof createClient> | undefined;

describeEventPaths({
  system: 'redis',
  available: serverAvailable({
    name: 'REDIS',
    command: 'redis-server',
    installHint: 'apt-get install redis-server',
  }),
  // Always a server of our own (never LOCK_TEST_REDIS_URL): the tests pause it.
  start: async () => {
    const given = process.env['LOCK_TEST_REDIS_URL'];
    delete process.env['LOCK_TEST_REDIS_URL'];
    try {
      const server = await startServer(redisServerSpec());
      raw = createClient({ url: server.url });
      await raw.connect();
      return server;
    } finally {
      if (given !== undefined) process.env['LOCK_TEST_REDIS_URL'] = given;
    }
  },
  backend: (server, namespace) =>
    new RedisBackend({
      url: server.url,
      prefix: `${namespace}:`,
      commandTimeout: 300,
      connectTimeout: 500,
    }),
  unreachableBackend: async () =>
    new RedisBackend({ url: `redis://127.0.0.1:${await freePort()}`, connectTimeout: 500 }),
  forceDelete: async (_server, namespace, key) => {
    await raw?.del(lockKeys(`${namespace}:`, key).lock);
  },
  close: async () => {
    await raw?.close();
  },
  ttl: 1_000,
});
