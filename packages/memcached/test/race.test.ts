import type { AcquireResult } from '@lock/core';
import { type RunningServer, randomKey } from '@lock/testkit';
import { MemcachedBackend } from '../src/index.js';
import { describeMemcached, startMemcached } from './memcached-server.js';

// The Go seed's race check: many contenders on one key at once, straight on the backend.
describeMemcached('memcached: 1000 concurrent contenders on one key', () => {
  let server: RunningServer;
  const backends: MemcachedBackend[] = [];
  beforeAll(async () => {
    server = await startMemcached();
    // Several clients (connections), as several processes would have.
    for (let i = 0; i < 4; i++) {
      backends.push(new MemcachedBackend({ servers: [server.url], keyPrefix: 'race:' }));
    }
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await server?.stop();
  });

  it('exactly one wins each round, fences grow, and nobody overlaps the winner', async () => {
    const key = randomKey();
    let lastFence = Number.NEGATIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      const owners = Array.from({ length: 1000 }, (_, i) => `c${i}.r${round}-${randomKey('s')}`);
      const results = await Promise.all(
        owners.map((owner, i) =>
          (backends[i % backends.length] as MemcachedBackend).acquire({
            key,
            owner,
            ttlMs: 30_000,
          }),
        ),
      );
      const winners = results
        .map((result, i) => ({ result, owner: owners[i] as string }))
        .filter(
          (r): r is { result: AcquireResult & { acquired: true }; owner: string } =>
            r.result.acquired,
        );
      expect(winners).toHaveLength(1);
      const winner = winners[0] as (typeof winners)[number];
      expect(winner.result.fence).toBeGreaterThan(lastFence);
      lastFence = winner.result.fence;
      // Every loser saw the winner (or, at worst, nobody) as the holder: never another loser.
      for (const result of results) {
        if (!result.acquired && result.holder !== undefined) {
          expect(result.holder).toBe(winner.owner);
        }
      }
      // While the winner holds it, a second wave gets nothing.
      const second = await Promise.all(
        owners
          .slice(0, 100)
          .map((owner) =>
            (backends[0] as MemcachedBackend).acquire({ key, owner: `${owner}-2`, ttlMs: 30_000 }),
          ),
      );
      expect(second.every((r) => !r.acquired)).toBe(true);
      expect((await backends[1]?.inspect(key))?.owner).toBe(winner.owner);
      await expect(
        (backends[2] as MemcachedBackend).release({ key, owner: winner.owner }),
      ).resolves.toBe('ok');
    }
  }, 60_000);
});
