/**
 * `@lock/docstore`: one lease algorithm for `@lock/core` over document stores. The adapters are
 * subpath exports, each importing only its own driver: `@lock/docstore/mongodb`,
 * `@lock/docstore/dynamodb`, `@lock/docstore/firestore`. This entry holds what they share, for
 * writing an adapter of your own.
 * @packageDocumentation
 */
export type {
  CreateResult,
  LeaseCollection,
  LeaseFields,
  LeaseRecord,
  RecordVersion,
  UpdateRequest,
  UpdateResult,
} from './collection.js';
export { DeadlineError, withDeadline } from './deadline.js';
export { initialFence } from './fence.js';
export { type IdRules, recordId } from './ids.js';
export { DocstoreBackend } from './lease-backend.js';
export { type Observation, Observations } from './observations.js';
export {
  DEFAULT_OPERATION_TIMEOUT_MS,
  LEASE_OPTION_NAMES,
  type LeaseOptions,
} from './options.js';
export { nextWriteId, type WriteOperation } from './write-id.js';
