/**
 * Clear errors for a table that is missing or keyed differently from what the lock needs.
 * @module
 */

/** The table does not exist, or its key is not the string attribute `id`. */
export class DynamoTableError extends Error {
  /** The table's name. */
  readonly table: string;
  constructor(message: string, table: string, cause: unknown) {
    super(message, { cause });
    this.name = 'DynamoTableError';
    this.table = table;
  }
}

/** `error` itself, or a {@link DynamoTableError} saying what is wrong with `table` and how to fix it. */
export function explainTableError(error: unknown, table: string): unknown {
  const name = (error as { name?: unknown } | null)?.name;
  const message = String((error as { message?: unknown } | null)?.message ?? '');
  if (name === 'ResourceNotFoundException') {
    return new DynamoTableError(
      `table "${table}" does not exist: create it with createDynamoTable() (on-demand, key "id" of type string)`,
      table,
      error,
    );
  }
  if (
    name === 'ValidationException' &&
    /key element does not match the schema|key schema|Missing the key .* in the item/i.test(message)
  ) {
    return new DynamoTableError(
      `table "${table}" does not have the key the lock needs: a partition key named "id" of type string and no sort key (${message})`,
      table,
      error,
    );
  }
  return error;
}
