// @lock/docstore: one suite per store (MongoDB on FerretDB, DynamoDB on dynalite, Firestore on
// its emulator), each with ours, the raw floor (the bare conditional create + delete with the
// same driver, unsafe as a lock) and the npm peer for that store where one exists.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocument } from '@aws-sdk/lib-dynamodb';
import { Firestore } from '@google-cloud/firestore';
import { createLocker } from '@lock/core';
import type { DocstoreBackend, LeaseCollection } from '@lock/docstore';
import { createDynamoBackend, createDynamoTable } from '@lock/docstore/dynamodb';
import { createFirestoreBackend } from '@lock/docstore/firestore';
import { createMongoBackend } from '@lock/docstore/mongodb';
import {
  dynaliteServerSpec,
  ferretdbServerSpec,
  firestoreServerSpec,
  type RunningServer,
  serverAvailable,
  startServer,
} from '@lock/testkit/servers';
import DynamoDBLockClient from 'dynamodb-lock-client';
import { LockManager } from 'mongo-locks';
import { MongoClient } from 'mongodb';
import type { LockAdapter, Suite } from '../adapter.js';
import { ourAdapter } from '../adapters/ours.js';
import { startShared } from './servers.js';

const RETRY_MS = 10;
const DYNAMO_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
} as const;

/** Counts the store requests a backend sends, by wrapping its collection's methods. */
function countRequests(backend: DocstoreBackend): () => Promise<number> {
  let count = 0;
  const collection = backend.collection as unknown as Record<string, unknown>;
  for (const method of ['get', 'create', 'update', 'delete', 'updateMany'] as const) {
    const original = collection[method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (original === undefined) continue;
    collection[method] = (...args: unknown[]) => {
      count += 1;
      return original.apply(backend.collection as LeaseCollection, args);
    };
  }
  return async () => count;
}

function ours(name: string, backend: DocstoreBackend): LockAdapter {
  const requestCount = countRequests(backend);
  return ourAdapter(name, createLocker(backend, { ttl: 10_000 }), { requestCount });
}

/** Retries `attempt` every 10 ms until it gives a lock or `timeoutMs` runs out. */
async function retrying<T>(attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const held = await attempt();
    if (held !== undefined) return held;
    if (performance.now() > deadline) throw new Error('timeout');
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function start(spec: Parameters<typeof startServer>[0]): Promise<RunningServer> {
  if (!serverAvailable(spec)) throw new Error(`${spec.name} test server is not available`);
  return startShared(spec.name, () => startServer(spec));
}

/** MongoDB on FerretDB (or `LOCK_TEST_MONGODB_URL`). */
export async function mongodbSuite(): Promise<Suite> {
  const server = await start(ferretdbServerSpec());
  const url = `${server.url.replace(/\/$/, '')}/bench`;
  const client = new MongoClient(url);
  await client.connect();
  const floor = client.db('bench').collection<{ _id: string; owner: string }>('floor');
  const peer = new LockManager(client.db('bench').collection('mongo-locks'));
  // mongo-locks creates a TTL index in its constructor and keeps the promise: FerretDB 1.24 has
  // no TTL indexes, so that promise rejects (unhandled, unless caught here) and every lock()
  // with it. The adapter then reports the server's reason instead of a number.
  const peerReady = (peer as unknown as { ready: Promise<unknown> }).ready.then(
    () => undefined,
    (error: unknown) => `mongo-locks cannot run here: ${(error as Error).message}`,
  );
  return {
    name: 'mongodb',
    notes: [
      'FerretDB 1.24.2 (SQLite on tmpfs, commands serialized by our test server: see packages/testkit/ferretdb) on loopback; mongodb 6.22.0; ours with operationTimeout 30 s (500 acquires at once queue on the serialized server)',
      'requests: store requests counted by the client (a bulk write counts once)',
      'the floor retries every 10 ms when contended',
    ],
    adapters: [
      // FerretDB serialized answers one command at a time: 500 acquires sent at once queue for
      // seconds, so the per-request deadline is raised from 5 s for the held-locks workload.
      ours(
        '@lock/docstore/mongodb',
        createMongoBackend({ url, collection: 'locks', operationTimeout: 30_000 }),
      ),
      {
        name: 'raw insertOne + deleteOne (floor, unsafe)',
        keepalive: false,
        acquire: (key, { timeoutMs }) =>
          retrying(async () => {
            const owner = randomBytes(16).toString('base64url');
            try {
              await floor.insertOne({ _id: key, owner });
            } catch (error) {
              if ((error as { code?: unknown }).code === 11000) return undefined;
              throw error;
            }
            return { release: async () => void (await floor.deleteOne({ _id: key, owner })) };
          }, timeoutMs),
        close: async () => {},
      },
      {
        name: 'mongo-locks 3.2.0',
        keepalive: true,
        acquire: (key, { timeoutMs }) =>
          retrying(async () => {
            const unsupported = await peerReady;
            if (unsupported !== undefined) throw new Error(unsupported);
            const lock = await peer.lock(key);
            return lock === null ? undefined : { release: async () => void (await lock.free()) };
          }, timeoutMs),
        close: async () => {},
      },
    ],
    teardown: async () => {
      await client.close();
      await server.stop();
    },
  };
}

/** DynamoDB on dynalite. */
export async function dynamodbSuite(): Promise<Suite> {
  const require = createRequire(import.meta.url);
  const server = await start(dynaliteServerSpec(require.resolve('dynalite/cli.js')));
  const client = new DynamoDBClient({ ...DYNAMO_CONFIG, endpoint: server.url });
  for (const table of ['locks', 'floor', 'peer']) await createDynamoTable(client, table);
  const peer = new DynamoDBLockClient.FailOpen({
    dynamodb: DynamoDBDocument.from(client),
    lockTable: 'peer',
    partitionKey: 'id',
    heartbeatPeriodMs: 3_000,
    leaseDurationMs: 10_000,
    retryCount: 0,
  });
  return {
    name: 'dynamodb',
    notes: [
      'dynalite 4.0.0 (in memory) on loopback; @aws-sdk/client-dynamodb 3.1169.0',
      'dynalite has no TransactWriteItems: our keepalive falls back to one conditional put per lock there',
      'requests: store requests counted by the client',
      'the floor retries every 10 ms when contended; dynamodb-lock-client waits a full lease before taking over a held lock (its design), with retryCount 0 and our 10 ms retry on top',
    ],
    adapters: [
      ours(
        '@lock/docstore/dynamodb',
        createDynamoBackend({ table: 'locks', endpoint: server.url, clientConfig: DYNAMO_CONFIG }),
      ),
      {
        name: 'raw conditional PutItem + DeleteItem (floor, unsafe)',
        keepalive: false,
        acquire: (key, { timeoutMs }) =>
          retrying(async () => {
            const owner = randomBytes(16).toString('base64url');
            try {
              await client.send(
                new PutItemCommand({
                  TableName: 'floor',
                  Item: { id: { S: key }, holder: { S: owner } },
                  ConditionExpression: 'attribute_not_exists(id)',
                }),
              );
            } catch (error) {
              if (error instanceof ConditionalCheckFailedException) return undefined;
              throw error;
            }
            return {
              release: async () =>
                void (await client.send(
                  new DeleteItemCommand({ TableName: 'floor', Key: { id: { S: key } } }),
                )),
            };
          }, timeoutMs),
        close: async () => {},
      },
      {
        name: 'dynamodb-lock-client 0.7.3 (FailOpen)',
        keepalive: true,
        acquire: (key, { timeoutMs }) =>
          retrying(
            () =>
              new Promise<{ release(): Promise<void> } | undefined>((resolve) => {
                peer.acquireLock(
                  key,
                  (error: unknown, lock: { release(cb: (e?: unknown) => void): void }) => {
                    if (error) {
                      resolve(undefined);
                      return;
                    }
                    resolve({
                      release: () =>
                        new Promise<void>((done, fail) =>
                          lock.release((e) => (e ? fail(e) : done())),
                        ),
                    });
                  },
                );
              }),
            timeoutMs,
          ),
        close: async () => {},
      },
    ],
    teardown: async () => {
      client.destroy();
      await server.stop();
    },
  };
}

/** Firestore on Google's emulator. */
export async function firestoreSuite(): Promise<Suite> {
  const server = await start(firestoreServerSpec());
  process.env['FIRESTORE_EMULATOR_HOST'] = server.url;
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  const raw = new Firestore({ projectId: 'lock-bench' });
  await raw.collection('warmup').doc('warmup').get();
  const floor = raw.collection('floor');
  return {
    name: 'firestore',
    notes: [
      'Google Firestore emulator (the Cloud SDK’s, one JVM) on loopback; @google-cloud/firestore 8.7.0',
      'requests: store requests counted by the client (a batch counts once)',
      'no npm peer: no maintained Firestore lock package runs here; the floor retries every 10 ms',
    ],
    adapters: [
      ours('@lock/docstore/firestore', createFirestoreBackend({ projectId: 'lock-bench' })),
      {
        name: 'raw create + delete (floor, unsafe)',
        keepalive: false,
        acquire: (key, { timeoutMs }) =>
          retrying(async () => {
            try {
              await floor.doc(key).create({ holder: randomBytes(16).toString('base64url') });
            } catch (error) {
              if ((error as { code?: unknown }).code === 6) return undefined;
              throw error;
            }
            return { release: async () => void (await floor.doc(key).delete()) };
          }, timeoutMs),
        close: async () => {},
      },
    ],
    teardown: async () => {
      await raw.terminate();
      await server.stop();
    },
  };
}
