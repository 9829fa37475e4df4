import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { connect, createLocker, isLockError } from '@lock/core';
import { type RunningServer, randomKey, startServer } from '@lock/testkit';
import { MongoClient } from 'mongodb';
import { createDynamoBackend, createDynamoTable, DynamoTableError } from '../src/dynamodb/index.js';
import { ensureMongoCollection } from '../src/mongodb/index.js';
import { TEST_PROJECT, useEmulator } from './firestore-env.js';
import {
  DYNAMODB,
  describeDynamo,
  describeFirestore,
  describeMongo,
  FIRESTORE,
  MONGODB,
} from './servers.js';
import { DYNAMO_TEST_CONFIG } from './stores.js';

describeDynamo('dynamodb tables', () => {
  let server: RunningServer;
  let client: DynamoDBClient;
  beforeAll(async () => {
    server = await startServer(DYNAMODB);
    client = new DynamoDBClient({ ...DYNAMO_TEST_CONFIG, endpoint: server.url });
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  const backendOn = (table: string) =>
    createDynamoBackend({ table, endpoint: server.url, clientConfig: DYNAMO_TEST_CONFIG });

  it('a missing table is a backend error that names it and says how to create it', async () => {
    const locker = createLocker(backendOn('no-such-table'), { onError: () => {} });
    try {
      const error = await locker.tryLock('k').catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).message).toContain('table "no-such-table" does not exist');
      expect((error as Error).message).toContain('createDynamoTable');
      expect((error as Error).cause).toBeInstanceOf(DynamoTableError);
      expect(((error as Error).cause as Error).cause).toMatchObject({
        name: 'ResourceNotFoundException',
      });
    } finally {
      await locker.close();
    }
  });

  it('a table keyed differently is a backend error that says which key the lock needs', async () => {
    await client.send(
      new CreateTableCommand({
        TableName: 'wrong-key',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      }),
    );
    const locker = createLocker(backendOn('wrong-key'), { onError: () => {} });
    try {
      const error = await locker.tryLock('k').catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).message).toContain('partition key named "id" of type string');
    } finally {
      await locker.close();
    }
    const setup = await createDynamoTable(client, 'wrong-key').catch((e: unknown) => e);
    expect(isLockError(setup, 'BACKEND')).toBe(true);
    expect((setup as Error).message).toContain('has key pk (HASH)');
  });

  it('createDynamoTable creates an on-demand table keyed by id, and is safe to run again', async () => {
    await createDynamoTable(client, 'made-here');
    await createDynamoTable(client, 'made-here');
    const locker = createLocker(backendOn('made-here'));
    try {
      await expect(
        locker.withLock(randomKey(), async (_s, lock) => lock.fence),
      ).resolves.toBeGreaterThan(0);
    } finally {
      await locker.close();
    }
  });

  it("connect('dynamodb://TABLE?region=…&endpoint=…') resolves to the adapter", async () => {
    process.env['AWS_ACCESS_KEY_ID'] = 'test';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'test';
    await createDynamoTable(client, 'connected');
    const locker = await connect(`dynamodb://connected?region=us-east-1&endpoint=${server.url}`);
    try {
      expect(locker.backend.name).toBe('dynamodb');
      await expect(locker.withLock(randomKey(), async () => 'done')).resolves.toBe('done');
    } finally {
      await locker.close();
    }
  });
});

describeMongo('mongodb collections', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(MONGODB);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('ensureMongoCollection creates the collection, and is safe to run again', async () => {
    await ensureMongoCollection({ url: `${server.url}setup?collection=leases` });
    await ensureMongoCollection({ url: `${server.url}setup?collection=leases` });
    const client = new MongoClient(server.url);
    try {
      const names = (await client.db('setup').listCollections().toArray()).map((c) => c.name);
      expect(names).toContain('leases');
    } finally {
      await client.close();
    }
  });

  it("connect('mongodb://…?collection=…') resolves to the adapter", async () => {
    const locker = await connect(`${server.url}connected?collection=leases`);
    try {
      expect(locker.backend.name).toBe('mongodb');
      await expect(locker.withLock(randomKey(), async () => 'done')).resolves.toBe('done');
    } finally {
      await locker.close();
    }
  });
});

describeFirestore('firestore', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(FIRESTORE);
    useEmulator(server);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("connect('firestore://PROJECT?collection=…') resolves to the adapter", async () => {
    const locker = await connect(`firestore://${TEST_PROJECT}?collection=connected`);
    try {
      expect(locker.backend.name).toBe('firestore');
      await expect(locker.withLock(randomKey(), async () => 'done')).resolves.toBe('done');
    } finally {
      await locker.close();
    }
  }, 30_000);
});
