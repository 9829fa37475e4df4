import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FaultProxy, type RunningServer, randomKey, randomNamespace, sleep } from '@lock/testkit';
import { createClient } from 'redis';
import { lockKeys, RedisBackend, type RedisClientLike } from '../src/index.js';
import { scriptRuns as countScriptRuns } from './command-stats.js';
import { redisAvailable, startOwnRedis } from './redis-server.js';
import { ownerToken, until } from './redlock-nodes.js';

const available = redisAvailable();

/**
 * Does node-redis 6.3.1 send a lock script again on the new connection after a reconnect? Its
 * source says no: a command is moved to the "waiting for reply" list when it is written, and a
 * socket error rejects that whole list (`flushWaitingForReply` / `flushAll`); only commands not
 * yet written stay queued for the next connection, and only when the offline queue is on.
 * These tests check it against a real server: the request lands, its reply is lost, the
 * connection is reset, the client reconnects, and the server must have run it exactly once.
 */
(available ? describe : describe.skip)('node-redis never resends a written lock script', () => {
  let server: RunningServer;
  let raw: ReturnType<typeof createClient>;

  beforeAll(async () => {
    server = await startOwnRedis();
    raw = createClient({ url: server.url });
    await raw.connect();
  });
  afterAll(async () => {
    await raw?.close();
    await server?.stop();
  });

  /** Script runs the server has done so far (EVALSHA and EVAL). */
  const scriptRuns = () => countScriptRuns(raw);

  for (const ownership of ['a client you pass in (offline queue on)', 'a client it owns']) {
    it(`${ownership}: acquire, extend and release that landed before a reset run once`, async () => {
      const proxy = await FaultProxy.start(server.ports[0] as number);
      const url = `redis://127.0.0.1:${proxy.port}`;
      const prefix = `${randomNamespace()}:`;
      const userClient = ownership === 'a client it owns' ? undefined : createClient({ url });
      userClient?.on('error', () => {});
      await userClient?.connect();
      const backend = new RedisBackend({
        ...(userClient === undefined
          ? { url }
          : { client: userClient as unknown as RedisClientLike }),
        prefix,
        fair: false,
        commandTimeout: 5_000,
        checkEvictionPolicy: false,
      });
      const key = randomKey();
      const owner = ownerToken('one');
      try {
        // Warm up: every script loaded (so no NOSCRIPT round trip later), connection open.
        const scratch = { key: randomKey(), owner };
        await backend.acquire({ ...scratch, ttlMs: 1_000 });
        await backend.extend({ ...scratch, ttlMs: 1_000 });
        await backend.release(scratch);
        await backend.inspect(scratch.key);
        const lock = lockKeys(prefix, key).lock;
        const calls: [string, () => Promise<unknown>, () => Promise<boolean>][] = [
          [
            'acquire',
            () => backend.acquire({ key, owner, ttlMs: 30_000 }),
            async () => (await raw.get(lock)) === owner,
          ],
          [
            'extend',
            () => backend.extend({ key, owner, ttlMs: 60_000 }),
            async () => (await raw.pTTL(lock)) > 45_000,
          ],
          ['release', () => backend.release({ key, owner }), async () => !(await raw.exists(lock))],
        ];
        for (const [what, call, landed] of calls) {
          const before = await scriptRuns();
          await proxy.set({ kind: 'drop-replies' });
          const outcome = call().then(
            () => 'answered',
            () => 'failed',
          );
          await until(async () => (await scriptRuns()) > before, 2_000, `${what} to land`);
          await proxy.set({ kind: 'reset' });
          await proxy.set({ kind: 'pass' });
          expect([what, await outcome]).toEqual([what, 'failed']); // fails at once, not by timeout
          // The client reconnects; a resent script would run a second time now.
          await until(
            () =>
              backend.inspect(key).then(
                () => true,
                () => false,
              ),
            5_000,
            'the client to reconnect',
          );
          await sleep(300);
          expect([what, (await scriptRuns()) - before]).toEqual([what, 2]); // the call + inspect
          expect([what, await landed()]).toEqual([what, true]);
        }
      } finally {
        await backend.close();
        await userClient?.close().catch(() => {});
        await proxy.close();
      }
    }, 30_000);
  }
});
