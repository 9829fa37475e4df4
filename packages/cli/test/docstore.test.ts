import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createDynamoTable } from '@lock/docstore/dynamodb';
import {
  dynaliteServerSpec,
  type RunningServer,
  randomKey,
  serverAvailable,
  startServer,
} from '@lock/testkit/servers';
import { CHILD, killLeftoverLocks, logLine, runLock, scratch, startLock } from './cli.js';

const node = process.execPath;
afterEach(killLeftoverLocks);

function resolveDynalite(): string | undefined {
  try {
    return require.resolve('dynalite/cli.js');
  } catch {
    return undefined;
  }
}

/** Static test credentials for the AWS SDK in `lock`, so it never looks for cloud ones. */
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
};

const DYNAMODB = dynaliteServerSpec(resolveDynalite());
const available = serverAvailable(DYNAMODB);

describe('@lock/docstore through lock: dynamodb:// (dynalite)', () => {
  let server: RunningServer;
  let uri: string;
  const files = scratch();

  beforeAll(async () => {
    if (!available) return;
    server = await startServer(DYNAMODB);
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      await createDynamoTable(client, 'cli-locks');
    } finally {
      client.destroy();
    }
    uri = `dynamodb://cli-locks?region=us-east-1&endpoint=${encodeURIComponent(server.url)}`;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    files.remove();
  });

  (available ? it : it.skip)(
    'connect() opens the docstore adapter: exec holds the lock in the table, status sees it, and it is free after',
    async () => {
      const key = randomKey();
      const log = files.log(`${key}-holder`);
      const holder = startLock(
        ['exec', uri, key, '--identity', 'dynamo-holder', '--ttl', '3s', '--', node, CHILD, log],
        { env: AWS_ENV },
      );
      await logLine(log, 'start');
      const status = await runLock(['status', uri, key, '--json'], { env: AWS_ENV });
      // (stderr may carry the AWS SDK's Node-version notice; lock itself reports nothing)
      expect(status.stderr).not.toMatch(/^lock:/m);
      expect(JSON.parse(status.stdout)).toMatchObject({
        key,
        held: true,
        holder: 'dynamo-holder',
      });
      expect(status.code).toBe(0);
      holder.process.kill('SIGTERM');
      expect(await holder.exited).toBe(0);
      const free = await runLock(['status', uri, key], { env: AWS_ENV });
      expect(free.stdout).toBe(`"${key}" is free\n`);
      expect(free.code).toBe(1);
    },
    60_000,
  );
});
