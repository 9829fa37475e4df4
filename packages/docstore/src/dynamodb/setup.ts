import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { toBackendError } from '../errors.js';
import { checkName } from '../names.js';
import { TABLE_RULE } from './options.js';
import { DynamoTableError } from './table-errors.js';

/**
 * Creates the lock table if it is missing: on-demand capacity, partition key `id` (string),
 * and waits until it is active. An existing table is checked instead: a different key schema
 * is an error that says so. Safe to run at every start.
 * @throws {InvalidArgumentError} for a bad table name; `BackendError` when DynamoDB refuses or
 * the table's key is wrong (its cause says which).
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * await createDynamoTable(new DynamoDBClient({ region: 'eu-west-1' }), 'locks');
 * ```
 */
export async function createDynamoTable(
  client: DynamoDBClient,
  table: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<void> {
  checkName(table, 'table', TABLE_RULE);
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  try {
    let description = await describe(client, table);
    if (description === undefined) {
      try {
        await client.send(
          new CreateTableCommand({
            TableName: table,
            BillingMode: 'PAY_PER_REQUEST',
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          }),
        );
      } catch (error) {
        // Created meanwhile by another process: check it below.
        if ((error as { name?: unknown }).name !== 'ResourceInUseException') throw error;
      }
      description = await describe(client, table);
    }
    checkKeySchema(description, table);
    while (description?.TableStatus !== 'ACTIVE') {
      if (performance.now() > deadline) {
        throw new Error(`table "${table}" is still ${description?.TableStatus ?? 'missing'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      description = await describe(client, table);
    }
  } catch (error) {
    throw toBackendError(error, 'dynamodb', `setup of table "${table}"`);
  }
}

async function describe(
  client: DynamoDBClient,
  table: string,
): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (error) {
    if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** Throws {@link DynamoTableError} unless the table's key is exactly `id` (string). */
function checkKeySchema(description: TableDescription | undefined, table: string): void {
  const keys = description?.KeySchema ?? [];
  const type = description?.AttributeDefinitions?.find(
    (a) => a.AttributeName === 'id',
  )?.AttributeType;
  const ok =
    keys.length === 1 &&
    keys[0]?.AttributeName === 'id' &&
    keys[0]?.KeyType === 'HASH' &&
    type === 'S';
  if (!ok) {
    const shown = keys.map((k) => `${k.AttributeName} (${k.KeyType})`).join(', ') || 'none';
    throw new DynamoTableError(
      `table "${table}" has key ${shown}: the lock needs a partition key named "id" of type string and no sort key`,
      table,
      undefined,
    );
  }
}
