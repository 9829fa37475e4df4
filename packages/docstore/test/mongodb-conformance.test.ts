import { type RunningServer, runConformanceSuite, startServer } from '@lock/testkit';
import { MongoClient } from 'mongodb';
import { createMongoBackend } from '../src/mongodb/index.js';
import { closedPort } from './helpers.js';
import { describeMongo, MONGODB } from './servers.js';

describeMongo('mongodb adapter', () => {
  let server: RunningServer;
  let raw: MongoClient;
  beforeAll(async () => {
    server = await startServer(MONGODB);
    raw = new MongoClient(server.url, { serverSelectionTimeoutMS: 5_000 });
    await raw.connect();
  }, 60_000);
  afterAll(async () => {
    await raw?.close();
    await server?.stop();
  });

  runConformanceSuite({
    name: 'mongodb',
    createBackend: async (namespace) =>
      createMongoBackend({ url: server.url, database: 'conformance', keyPrefix: `${namespace}:` }),
    forceDelete: async (namespace, key) => {
      await raw
        .db('conformance')
        .collection('locks')
        .deleteOne({ _id: `${namespace}:${key}` as never });
    },
    createUnreachableBackend: async () =>
      createMongoBackend({
        url: `mongodb://127.0.0.1:${await closedPort()}/`,
        operationTimeout: 2_000,
      }),
    capabilities: { minTtlMs: 500, expirySlackMs: 200, semaphores: true },
  });
});
