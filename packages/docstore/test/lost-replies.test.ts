import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isLockError } from '@lock/core';
import { FaultProxy, type RunningServer, randomKey, startServer } from '@lock/testkit';
import { createDynamoBackend, createDynamoTable } from '../src/dynamodb/index.js';
import type { DocstoreBackend } from '../src/index.js';
import { createMongoBackend } from '../src/mongodb/index.js';
import { DYNAMODB, describeDynamo, describeMongo, MONGODB } from './servers.js';
import { DYNAMO_TEST_CONFIG } from './stores.js';

/**
 * Sends `call` until the backend answers (not a backend error), for at most 10 s: after a lost
 * reply the driver may first drop its connections (the Mongo driver clears its pool and fails
 * the next operation too).
 */
async function untilAnswered<T>(call: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isLockError(error, 'BACKEND') || performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * A write whose reply is lost landed all the same. The next call must not take that for a lost
 * race: a release that is retried after its reply was lost reports `ok` (the record shows this
 * backend's write id), not `not-found`; an extend, `ok`; and an acquire, whose retry finds its
 * own owner token, the lock.
 */
function lostReplySuite(
  name: string,
  describeStore: typeof describe,
  start: () => Promise<RunningServer>,
  open: (port: number) => DocstoreBackend,
): void {
  describeStore(`lost replies on ${name}`, () => {
    let server: RunningServer;
    let proxy: FaultProxy;
    beforeAll(async () => {
      server = await start();
      proxy = await FaultProxy.start(server.ports[0] as number);
    }, 60_000);
    afterAll(async () => {
      await proxy?.close();
      await server?.stop();
    });

    it('an extend and a release whose replies were lost are reported ok when sent again', async () => {
      const backend = open(proxy.port);
      try {
        const key = randomKey();
        const owner = 'me.secret-1';
        await expect(backend.acquire({ key, owner, ttlMs: 10_000 })).resolves.toMatchObject({
          acquired: true,
        });
        await proxy.set({ kind: 'drop-replies' });
        const lostExtend = await backend.extend({ key, owner, ttlMs: 10_000 }).catch((e) => e);
        expect(isLockError(lostExtend, 'BACKEND')).toBe(true);
        await proxy.set({ kind: 'pass' });
        proxy.resetAll();
        await expect(
          untilAnswered(() => backend.extend({ key, owner, ttlMs: 10_000 })),
        ).resolves.toBe('ok');
        await proxy.set({ kind: 'drop-replies' });
        const lostRelease = await backend.release({ key, owner }).catch((e) => e);
        expect(isLockError(lostRelease, 'BACKEND')).toBe(true);
        await proxy.set({ kind: 'pass' });
        proxy.resetAll();
        await expect(untilAnswered(() => backend.release({ key, owner }))).resolves.toBe('ok');
        expect(await backend.inspect(key)).toBeUndefined();
        // And a second release, now that the first is known, is not-found as usual.
        await expect(backend.release({ key, owner })).resolves.toBe('not-found');
      } finally {
        await proxy.set({ kind: 'pass' });
        await backend.close();
      }
    }, 30_000);

    it('an acquire whose reply was lost finds its own lock when sent again', async () => {
      const backend = open(proxy.port);
      try {
        const key = randomKey();
        const owner = 'me.secret-2';
        await proxy.set({ kind: 'drop-replies' });
        const lost = await backend.acquire({ key, owner, ttlMs: 10_000 }).catch((e) => e);
        expect(isLockError(lost, 'BACKEND')).toBe(true);
        await proxy.set({ kind: 'pass' });
        proxy.resetAll();
        await expect(
          untilAnswered(() => backend.acquire({ key, owner, ttlMs: 10_000 })),
        ).resolves.toMatchObject({ acquired: true });
        await expect(
          backend.acquire({ key, owner: 'other.secret', ttlMs: 10_000 }),
        ).resolves.toMatchObject({ acquired: false });
      } finally {
        await proxy.set({ kind: 'pass' });
        await backend.close();
      }
    }, 30_000);
  });
}

lostReplySuite(
  'mongodb',
  process.env['LOCK_TEST_MONGODB_URL'] ? describe.skip : describeMongo,
  () => startServer(MONGODB),
  (port) =>
    createMongoBackend({
      url: `mongodb://127.0.0.1:${port}/`,
      database: 'lost',
      operationTimeout: 1_000,
    }),
);

lostReplySuite(
  'dynamodb',
  process.env['LOCK_TEST_DYNAMODB_URL'] ? describe.skip : describeDynamo,
  async () => {
    const server = await startServer(DYNAMODB);
    const client = new DynamoDBClient({ ...DYNAMO_TEST_CONFIG, endpoint: server.url });
    await createDynamoTable(client, 'lost');
    client.destroy();
    return server;
  },
  (port) =>
    createDynamoBackend({
      table: 'lost',
      endpoint: `http://127.0.0.1:${port}`,
      operationTimeout: 1_000,
      clientConfig: DYNAMO_TEST_CONFIG,
    }),
);
