import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type RunningServer, runConformanceSuite, startServer } from '@lock/testkit';
import { createDynamoBackend, createDynamoTable } from '../src/dynamodb/index.js';
import { closedPort } from './helpers.js';
import { DYNAMODB, describeDynamo } from './servers.js';

/** Static test credentials, so the SDK never looks for cloud ones. */
export const TEST_CLIENT_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
} as const;

describeDynamo('dynamodb adapter', () => {
  let server: RunningServer;
  let raw: DynamoDBClient;
  beforeAll(async () => {
    server = await startServer(DYNAMODB);
    raw = new DynamoDBClient({ ...TEST_CLIENT_CONFIG, endpoint: server.url });
    await createDynamoTable(raw, 'conformance');
  }, 60_000);
  afterAll(async () => {
    raw?.destroy();
    await server?.stop();
  });

  runConformanceSuite({
    name: 'dynamodb',
    createBackend: async (namespace) =>
      createDynamoBackend({
        table: 'conformance',
        endpoint: server.url,
        keyPrefix: `${namespace}:`,
        clientConfig: TEST_CLIENT_CONFIG,
      }),
    forceDelete: async (namespace, key) => {
      await raw.send(
        new DeleteItemCommand({
          TableName: 'conformance',
          Key: { id: { S: `${namespace}:${key}` } },
        }),
      );
    },
    createUnreachableBackend: async () =>
      createDynamoBackend({
        table: 'conformance',
        endpoint: `http://127.0.0.1:${await closedPort()}`,
        operationTimeout: 2_000,
        clientConfig: TEST_CLIENT_CONFIG,
      }),
    capabilities: { minTtlMs: 500, expirySlackMs: 200, semaphores: true },
  });
});
