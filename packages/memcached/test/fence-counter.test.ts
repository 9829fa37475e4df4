import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type RunningServer, randomKey } from '@lock/testkit';
import { MemcachedBackend } from '../src/index.js';
import { describeMemcached, startMemcached } from './memcached-server.js';

/**
 * The fence counter is created by the first INCREMENT that finds it missing. Two increments on
 * connections of their own can both find it missing: the one whose create then loses answers
 * "item not stored", which failed the acquire that had just won its lock (clean-clone CI, seed
 * scenario). Each round here is a fresh key taken by many connections at once.
 */
describeMemcached(
  'memcached: the first fence of a key, counted from many connections at once',
  () => {
    let server: RunningServer;
    const backends: MemcachedBackend[] = [];
    beforeAll(async () => {
      server = await startMemcached();
      for (let i = 0; i < 16; i++) {
        backends.push(new MemcachedBackend({ servers: [server.url], keyPrefix: 'fence:' }));
      }
    });
    afterAll(async () => {
      await Promise.all(backends.map((b) => b.close()));
      await server?.stop();
    });

    it('every round grants the fresh key to exactly one contender, with a fence, and fails none', async () => {
      for (let round = 0; round < 300; round++) {
        const key = randomKey();
        const results = await Promise.all(
          backends.map((backend, i) =>
            backend.acquire({ key, owner: `c${i}.${randomKey('s')}`, ttlMs: 10_000 }),
          ),
        );
        const winners = results.filter((r) => r.acquired);
        expect(winners).toHaveLength(1);
        expect(typeof (winners[0] as { fence: number }).fence).toBe('number');
      }
    }, 60_000);
  },
);
