/**
 * Options of the Firestore adapter.
 * @module
 */
import type { Firestore, Settings } from '@google-cloud/firestore';
import { InvalidArgumentError } from '@lock/core';
import { checkName } from '../names.js';
import { checkLeaseOptions, type LeaseOptions } from '../options.js';

/** Options of {@link createFirestoreBackend}. Give `firestore`, or `projectId` (or neither, to use the SDK's default project). */
export interface FirestoreBackendOptions extends LeaseOptions {
  /** Your `Firestore` client; left open by `close()`. */
  readonly firestore?: Firestore;
  /** Project of the client this package creates. @default the SDK's (`GOOGLE_CLOUD_PROJECT`, …) */
  readonly projectId?: string;
  /** Database of the client this package creates. @default "(default)" */
  readonly databaseId?: string;
  /**
   * Collection of lock documents.
   * @default "locks"
   */
  readonly collection?: string;
  /** More settings for the client this package creates (credentials, …); not with `firestore`. */
  readonly settings?: Settings;
}

/** Every option name {@link FirestoreBackendOptions} knows. */
export const FIRESTORE_OPTION_NAMES: readonly string[] = [
  'keyPrefix',
  'operationTimeout',
  'firestore',
  'projectId',
  'databaseId',
  'collection',
  'settings',
];

/** Firestore's rules for a collection id (a top-level collection: no `/`). */
export const COLLECTION_RULE = {
  pattern: /^(?!\.\.?$)(?!__.*__$)[^/]+$/,
  text: 'must be a Firestore collection id (no "/", not "." or "..", not "__…__")',
  maxBytes: 1500,
} as const;

/** Google Cloud's rules for project ids (the emulator takes any; this checks the shape). */
export const PROJECT_RULE = {
  pattern: /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
  text: 'must be a Google Cloud project id (6 to 30 of a-z 0-9 -, starting with a letter)',
  maxBytes: 30,
} as const;

/** Firestore's rules for database ids. */
export const DATABASE_RULE = {
  pattern: /^(\(default\)|[a-z][a-z0-9-]{2,62})$/,
  text: 'must be "(default)" or a Firestore database id (4 to 63 of a-z 0-9 -, starting with a letter)',
  maxBytes: 63,
} as const;

/** Throws {@link InvalidArgumentError} for a bad option, named under `name`. */
export function checkFirestoreOptions(
  options: unknown,
  name: string,
): asserts options is FirestoreBackendOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(name, options, 'must be an object');
  }
  for (const [key, value] of Object.entries(options)) {
    if (!FIRESTORE_OPTION_NAMES.includes(key)) {
      throw new InvalidArgumentError(
        `${name}.${key}`,
        typeof value === 'string' ? '***' : value,
        `is not a known option (known: ${FIRESTORE_OPTION_NAMES.join(', ')})`,
      );
    }
  }
  const o = options as FirestoreBackendOptions;
  checkLeaseOptions(o, name);
  if (o.keyPrefix?.includes('/')) {
    throw new InvalidArgumentError(
      `${name}.keyPrefix`,
      o.keyPrefix,
      'must not contain "/" in Firestore',
    );
  }
  if (o.firestore !== undefined) {
    const client = o.firestore as unknown as Record<string, unknown>;
    if (
      typeof client !== 'object' ||
      client === null ||
      typeof client['collection'] !== 'function'
    ) {
      throw new InvalidArgumentError(
        `${name}.firestore`,
        o.firestore,
        'must be a Firestore client',
      );
    }
    for (const k of ['projectId', 'databaseId', 'settings'] as const) {
      if (o[k] !== undefined) {
        throw new InvalidArgumentError(
          `${name}.${k}`,
          o[k],
          'cannot be combined with firestore: configure your Firestore client instead',
        );
      }
    }
  }
  if (o.projectId !== undefined) checkName(o.projectId, `${name}.projectId`, PROJECT_RULE);
  if (o.databaseId !== undefined) checkName(o.databaseId, `${name}.databaseId`, DATABASE_RULE);
  if (o.collection !== undefined) checkName(o.collection, `${name}.collection`, COLLECTION_RULE);
  if (o.settings !== undefined && (typeof o.settings !== 'object' || o.settings === null)) {
    throw new InvalidArgumentError(`${name}.settings`, o.settings, 'must be an object');
  }
}
