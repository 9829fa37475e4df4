/**
 * The lease collection over a DynamoDB table whose key is the string attribute `id`. One item
 * per lock: `{ id, owner, leaseMs, fence, v }`, where `v` (the write id) is the record version
 * every conditional write tests. Every write is a full `PutItem` (or a `Put` in a transaction)
 * with a condition, so a write and its check are one atomic request; a failed condition comes
 * back with the item where DynamoDB returns it (`ReturnValuesOnConditionCheckFailure`).
 * @module
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type {
  CreateResult,
  LeaseCollection,
  LeaseFields,
  LeaseRecord,
  UpdateRequest,
  UpdateResult,
} from '../collection.js';
import { explainTableError } from './table-errors.js';

/** DynamoDB's limit of items in one `TransactWriteItems`. */
export const MAX_TRANSACTION_ITEMS = 100;

type Item = Record<string, AttributeValue>;

/** {@link LeaseCollection} over one DynamoDB table (key `id`, a string). */
export class DynamoLeaseCollection implements LeaseCollection {
  readonly name = 'dynamodb';
  /** DynamoDB's limit for a partition key value. */
  readonly maxIdBytes = 2048;
  /** The table's name. */
  readonly table: string;
  readonly #client: DynamoDBClient;
  readonly #ownsClient: boolean;
  /** False once the endpoint said it has no transactions (dynalite): batches go out item by item. */
  #transactions = true;
  /** False once the endpoint refused `ReturnValuesOnConditionCheckFailure` (dynalite). */
  #returnsOnFailure = true;

  /**
   * @param client the DynamoDB client; destroyed by {@link close} when `ownsClient`.
   * @param table the table's name.
   */
  constructor(client: DynamoDBClient, table: string, ownsClient: boolean) {
    this.#client = client;
    this.table = table;
    this.#ownsClient = ownsClient;
  }

  async get(id: string): Promise<LeaseRecord | undefined> {
    const reply = await this.#send<GetItemCommandOutput>(
      new GetItemCommand({ TableName: this.table, Key: { id: { S: id } }, ConsistentRead: true }),
    );
    return reply.Item === undefined ? undefined : toRecord(reply.Item);
  }

  async create(id: string, fields: LeaseFields): Promise<CreateResult> {
    const failed = await this.#put(id, fields, 'attribute_not_exists(id)', undefined);
    if (failed === false) return { created: true, record: toRecordOf(fields) };
    return { created: false, current: failed };
  }

  async update(id: string, expected: string, fields: LeaseFields): Promise<UpdateResult> {
    const failed = await this.#put(id, fields, '#v = :v', expected);
    if (failed === false) return { updated: true, record: toRecordOf(fields) };
    return { updated: false, current: failed };
  }

  async delete(id: string, expected: string): Promise<boolean> {
    try {
      await this.#send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { id: { S: id } },
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#v': 'v' },
          ExpressionAttributeValues: { ':v': { S: expected } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Conditional puts in `TransactWriteItems` of up to 100 items. A transaction is all or
   * nothing: when some conditions fail, DynamoDB says which (`CancellationReasons`) and the
   * others are sent again once. An endpoint without transactions (dynalite) gets single puts.
   */
  async updateMany(requests: readonly UpdateRequest[]): Promise<UpdateResult[]> {
    if (!this.#transactions) return this.#updateEach(requests);
    const chunks: UpdateRequest[][] = [];
    for (let start = 0; start < requests.length; start += MAX_TRANSACTION_ITEMS) {
      chunks.push(requests.slice(start, start + MAX_TRANSACTION_ITEMS));
    }
    // In parallel: a keepalive tick must finish within the tick, whatever the number of locks.
    return (await Promise.all(chunks.map((chunk) => this.#transact(chunk, true)))).flat();
  }

  async #transact(chunk: readonly UpdateRequest[], again: boolean): Promise<UpdateResult[]> {
    if (chunk.length === 0) return [];
    if (chunk.length === 1) {
      const { id, expected, fields } = chunk[0] as UpdateRequest;
      return [await this.update(id, expected, fields)];
    }
    try {
      await this.#send(
        new TransactWriteItemsCommand({
          TransactItems: chunk.map(({ id, expected, fields }) => ({
            Put: {
              TableName: this.table,
              Item: toItem(id, fields),
              ConditionExpression: '#v = :v',
              ExpressionAttributeNames: { '#v': 'v' },
              ExpressionAttributeValues: { ':v': { S: expected } },
            },
          })),
        }),
      );
      return chunk.map(({ fields }) => ({ updated: true, record: toRecordOf(fields) }));
    } catch (error) {
      if (isUnknownOperation(error)) {
        this.#transactions = false;
        return this.#updateEach(chunk);
      }
      if (!(error instanceof TransactionCanceledException) || !again) throw error;
      const reasons = error.CancellationReasons ?? [];
      const stale = chunk.map((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed');
      if (!stale.some(Boolean)) throw error;
      const retried = await this.#transact(
        chunk.filter((_, i) => !stale[i]),
        false,
      );
      return chunk.map((_, i) =>
        stale[i] ? { updated: false } : (retried.shift() as UpdateResult),
      );
    }
  }

  #updateEach(requests: readonly UpdateRequest[]): Promise<UpdateResult[]> {
    return Promise.all(
      requests.map(({ id, expected, fields }) => this.update(id, expected, fields)),
    );
  }

  /**
   * A conditional `PutItem`: `false` when it was written, else the item DynamoDB returned
   * with the failure, or `undefined` when it returned none.
   */
  async #put(
    id: string,
    fields: LeaseFields,
    condition: string,
    expected: string | undefined,
  ): Promise<false | LeaseRecord | undefined> {
    const command = new PutItemCommand({
      TableName: this.table,
      Item: toItem(id, fields),
      ConditionExpression: condition,
      ...(expected === undefined
        ? {}
        : {
            ExpressionAttributeNames: { '#v': 'v' },
            ExpressionAttributeValues: { ':v': { S: expected } },
          }),
      ...(this.#returnsOnFailure ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } : {}),
    });
    try {
      await this.#send(command);
      return false;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // No item: either there is none, or the endpoint ignored the request for it (dynalite
        // accepts the parameter and returns nothing). The caller reads to find out.
        return error.Item === undefined ? undefined : toRecord(error.Item);
      }
      if (this.#returnsOnFailure && refusesReturnOnFailure(error)) {
        this.#returnsOnFailure = false;
        return this.#put(id, fields, condition, expected);
      }
      throw error;
    }
  }

  async #send<T>(command: { input: unknown } & object): Promise<T> {
    try {
      return (await this.#client.send(command as never)) as T;
    } catch (error) {
      throw explainTableError(error, this.table);
    }
  }

  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy();
  }
}

function toItem(id: string, fields: LeaseFields): Item {
  const item: Item = {
    id: { S: id },
    owner: fields.owner === null ? { NULL: true } : { S: fields.owner },
    leaseMs: { N: String(fields.leaseMs) },
    fence: { N: String(fields.fence) },
    v: { S: fields.writeId },
  };
  if (fields.data !== undefined) item['data'] = { S: fields.data };
  return item;
}

function toRecordOf(fields: LeaseFields): LeaseRecord {
  return { ...fields, version: fields.writeId };
}

function toRecord(item: Item): LeaseRecord {
  const writeId = item['v']?.S ?? '';
  return {
    owner: item['owner']?.S ?? null,
    leaseMs: Number(item['leaseMs']?.N ?? 0),
    fence: Number(item['fence']?.N ?? 0),
    writeId,
    version: writeId,
    ...(item['data']?.S === undefined ? {} : { data: item['data'].S }),
  };
}

function isUnknownOperation(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'UnknownOperationException';
}

/** dynalite validates strictly and refuses parameters newer than itself. */
function refusesReturnOnFailure(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return (
    (error as { name?: unknown } | null)?.name === 'ValidationException' &&
    typeof message === 'string' &&
    message.includes('ReturnValuesOnConditionCheckFailure')
  );
}
