/**
 * Uncontended acquire+release of one semaphore permit against the mutex of the same backend, in
 * the same run, on each test server: pairs per second and store requests per pair. The README's
 * numbers come from here. Run from packages/docstore:
 *
 *     node --conditions=source --import tsx scripts/measure-semaphores.ts [mongodb|dynamodb|firestore …]
 *
 * Rounds of 1 s alternate between the two (mutex, semaphore, mutex, …) so that load from other
 * work on the machine falls on both alike.
 */
import { createRequire } from 'node:module';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Firestore } from '@google-cloud/firestore';
import { createLocker, type Locker } from '@lock/core';
import {
  dynaliteServerSpec,
  ferretdbServerSpec,
  firestoreServerSpec,
  randomKey,
  randomNamespace,
  startServer,
} from '@lock/testkit/servers';
import { MongoClient } from 'mongodb';
import { createDynamoTable, DynamoLeaseCollection } from '../src/dynamodb/index.js';
import { FirestoreLeaseCollection } from '../src/firestore/index.js';
import { DocstoreBackend, type LeaseCollection } from '../src/index.js';
import { MongoLeaseCollection } from '../src/mongodb/index.js';

type StoreName = 'mongodb' | 'dynamodb' | 'firestore';

/** A fresh collection on the test server of `name`, and how to stop it all. */
async function startCollection(
  name: StoreName,
): Promise<{ collection: LeaseCollection; stop: () => Promise<void> }> {
  if (name === 'mongodb') {
    const server = await startServer(ferretdbServerSpec());
    const client = new MongoClient(server.url, { serverSelectionTimeoutMS: 5_000 });
    const collection = client
      .db('measure')
      .collection(randomNamespace(), { writeConcern: { w: 'majority' } });
    return {
      collection: new MongoLeaseCollection(collection as never),
      stop: async () => {
        await client.close();
        await server.stop();
      },
    };
  }
  if (name === 'dynamodb') {
    const cli = createRequire(import.meta.url).resolve('dynalite/cli.js');
    const server = await startServer(dynaliteServerSpec(cli));
    const client = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      endpoint: server.url,
    });
    await createDynamoTable(client, 'measure');
    return {
      collection: new DynamoLeaseCollection(client, 'measure', false),
      stop: async () => {
        client.destroy();
        await server.stop();
      },
    };
  }
  const server = await startServer(firestoreServerSpec());
  process.env['FIRESTORE_EMULATOR_HOST'] = server.url;
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  const firestore = new Firestore({ projectId: 'measure' });
  await firestore.collection('warmup').doc('warmup').get();
  return {
    collection: new FirestoreLeaseCollection(firestore, randomNamespace(), false),
    stop: async () => {
      await firestore.terminate();
      await server.stop();
    },
  };
}

const ROUNDS = 6;
const ROUND_MS = 1_000;

/** `inner`, counting every request sent to the store. */
function counted(inner: LeaseCollection, count: { requests: number }): LeaseCollection {
  const tally =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      count.requests += 1;
      return call(...args);
    };
  return {
    name: inner.name,
    maxIdBytes: inner.maxIdBytes,
    ...(inner.unsafeId === undefined ? {} : { unsafeId: inner.unsafeId.bind(inner) }),
    get: tally(inner.get.bind(inner)),
    create: tally(inner.create.bind(inner)),
    update: tally(inner.update.bind(inner)),
    delete: tally(inner.delete.bind(inner)),
    close: async () => {},
  };
}

async function measure(name: StoreName): Promise<void> {
  const store = await startCollection(name);
  const count = { requests: 0 };
  const locker: Locker = createLocker(new DocstoreBackend(counted(store.collection, count)), {
    ttl: 30_000,
  });
  const lockKey = randomKey('mutex');
  const semaphore = locker.semaphore(randomKey('sem'), { permits: 3 });
  const pairs = {
    mutex: async () => (await locker.lock(lockKey)).release(),
    semaphore: async () => (await semaphore.acquire()).release(),
  };
  const totals = {
    mutex: { pairs: 0, ms: 0, requests: 0 },
    semaphore: { pairs: 0, ms: 0, requests: 0 },
  };
  for (const pair of Object.values(pairs)) for (let i = 0; i < 50; i++) await pair(); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['mutex', 'semaphore'] as const) {
      const requestsBefore = count.requests;
      const started = performance.now();
      let done = 0;
      while (performance.now() - started < ROUND_MS) {
        await pairs[kind]();
        done += 1;
      }
      totals[kind].ms += performance.now() - started;
      totals[kind].pairs += done;
      totals[kind].requests += count.requests - requestsBefore;
    }
  }
  await locker.close();
  await store.stop();
  const rate = (kind: 'mutex' | 'semaphore') => (totals[kind].pairs * 1000) / totals[kind].ms;
  const perPair = (kind: 'mutex' | 'semaphore') => totals[kind].requests / totals[kind].pairs;
  console.log(
    `${name}: mutex ${rate('mutex').toFixed(0)} pairs/s (${perPair('mutex').toFixed(2)} requests/pair), ` +
      `semaphore ${rate('semaphore').toFixed(0)} pairs/s (${perPair('semaphore').toFixed(2)} requests/pair), ` +
      `ratio ${(rate('semaphore') / rate('mutex')).toFixed(2)}×`,
  );
}

const names = process.argv.slice(2) as StoreName[];
for (const name of names.length > 0 ? names : (['mongodb', 'dynamodb', 'firestore'] as const)) {
  await measure(name);
}
