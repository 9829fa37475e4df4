/**
 * `@lock/docstore/dynamodb`: locks in a DynamoDB table, on `@aws-sdk/client-dynamodb`.
 * @packageDocumentation
 */
export { createDynamoBackend } from './create-backend.js';
export { DynamoLeaseCollection, MAX_TRANSACTION_ITEMS } from './dynamo-collection.js';
export { openBackend } from './open-backend.js';
export {
  checkEndpoint,
  DYNAMO_OPTION_NAMES,
  type DynamoBackendOptions,
  TABLE_RULE,
} from './options.js';
export { createDynamoTable } from './setup.js';
export { DynamoTableError } from './table-errors.js';
export { DYNAMO_URL_PARAMETERS, parseDynamoUrl } from './uri.js';
