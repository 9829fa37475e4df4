import { afterAll, beforeAll, describe } from '@jest/globals';
import { freePort, type RunningServer, runConformanceSuite } from '@lock/testkit';
import { createClient } from 'redis';
import { lockKeys, RedisBackend } from '../src/index.js';
import { redisAvailable, startRedis } from './redis-server.js';

const available = redisAvailable();

for (const fair of [true, false]) {
  (available ? describe : describe.skip)(`redis (${fair ? 'fair' : 'unfair'})`, () => {
    let server: RunningServer;
    let raw: ReturnType<typeof createClient>;

    beforeAll(async () => {
      server = await startRedis();
      raw = createClient({ url: server.url });
      await raw.connect();
    });
    afterAll(async () => {
      await raw?.close();
      await server?.stop();
    });

    runConformanceSuite({
      name: `redis ${fair ? 'fair' : 'unfair'}`,
      createBackend: async (namespace) =>
        new RedisBackend({ url: server.url, prefix: `${namespace}:`, fair }),
      capabilities: { semaphores: true },
      forceDelete: async (namespace, key) => {
        await raw.del(lockKeys(`${namespace}:`, key).lock);
      },
      createUnreachableBackend: async () =>
        new RedisBackend({
          url: `redis://127.0.0.1:${await freePort()}`,
          connectTimeout: 1_000,
          fair,
        }),
    });
  });
}
