import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Firestore } from '@google-cloud/firestore';
import { type RunningServer, randomNamespace, startServer } from '@lock/testkit';
import { MongoClient } from 'mongodb';
import {
  createDynamoBackend,
  createDynamoTable,
  DynamoLeaseCollection,
} from '../src/dynamodb/index.js';
import { createFirestoreBackend, FirestoreLeaseCollection } from '../src/firestore/index.js';
import type { DocstoreBackend, LeaseCollection } from '../src/index.js';
import { createMongoBackend, MongoLeaseCollection } from '../src/mongodb/index.js';
import { FirestoreBackends, rawFirestore, TEST_PROJECT, useEmulator } from './firestore-env.js';
import { DYNAMODB, FIRESTORE, MONGODB } from './servers.js';

/** Static test credentials, so the SDK never looks for cloud ones. */
export const DYNAMO_TEST_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
} as const;

/** One store under test: its server, a raw collection, and backends on it. */
export interface Store {
  readonly name: 'mongodb' | 'dynamodb' | 'firestore';
  /** A collection on a fresh table/collection of the store's test server. */
  collection(): LeaseCollection;
  /** A backend over the shared lock collection, with `keyPrefix`. */
  backend(keyPrefix: string, options?: { operationTimeout?: number }): DocstoreBackend;
  stop(): Promise<void>;
}

/** Starts the server of `name` and returns its {@link Store}. */
export async function startStore(name: Store['name']): Promise<Store> {
  if (name === 'mongodb') {
    const server = await startServer(MONGODB);
    const client = new MongoClient(server.url, { serverSelectionTimeoutMS: 5_000 });
    return {
      name,
      collection: () =>
        new MongoLeaseCollection(client.db('contract').collection(randomNamespace())),
      backend: (keyPrefix, options) =>
        createMongoBackend({ url: server.url, database: 'stores', keyPrefix, ...options }),
      stop: async () => {
        await client.close();
        await server.stop();
      },
    };
  }
  if (name === 'dynamodb') {
    const server = await startServer(DYNAMODB);
    const client = new DynamoDBClient({ ...DYNAMO_TEST_CONFIG, endpoint: server.url });
    await createDynamoTable(client, 'stores');
    return {
      name,
      collection: () => new DynamoLeaseCollection(client, 'stores', false),
      backend: (keyPrefix, options) =>
        createDynamoBackend({
          table: 'stores',
          endpoint: server.url,
          keyPrefix,
          clientConfig: DYNAMO_TEST_CONFIG,
          ...options,
        }),
      stop: async () => {
        client.destroy();
        await server.stop();
      },
    };
  }
  const server: RunningServer = await startServer(FIRESTORE);
  useEmulator(server);
  const raw: Firestore = await rawFirestore();
  const backends = new FirestoreBackends();
  return {
    name,
    collection: () => new FirestoreLeaseCollection(raw, randomNamespace(), false),
    backend: (keyPrefix, options) =>
      backends.track(
        createFirestoreBackend({
          projectId: TEST_PROJECT,
          collection: 'stores',
          keyPrefix,
          ...options,
        }),
      ),
    stop: async () => {
      await backends.terminateAll();
      await raw.terminate();
      await server.stop();
    },
  };
}
