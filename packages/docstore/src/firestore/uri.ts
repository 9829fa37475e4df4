/**
 * Reads `firestore://PROJECT[/DATABASE]?collection=…` connection strings.
 * @module
 */
import { InvalidConnectionStringError, isLockError } from '@lock/core';
import { queryParameters } from '../names.js';
import { checkFirestoreOptions, type FirestoreBackendOptions } from './options.js';

/** The query parameters a `firestore://` URI takes. */
export const FIRESTORE_URL_PARAMETERS = ['collection', 'keyPrefix', 'operationTimeout'] as const;

const EXAMPLE =
  'expected "firestore://PROJECT[/DATABASE][?collection=locks&keyPrefix=…&operationTimeout=5000]"';

/**
 * Parses `firestore://PROJECT[/DATABASE][?collection=…&keyPrefix=…&operationTimeout=…]` into
 * {@link FirestoreBackendOptions}. Credentials come from the SDK's usual sources (application
 * default credentials); the emulator from `FIRESTORE_EMULATOR_HOST`.
 * @throws {InvalidConnectionStringError} naming the rule broken.
 */
export function parseFirestoreUrl(uri: string): FirestoreBackendOptions {
  const match = /^firestore:\/\/([^/?#]*)(?:\/([^/?#]*))?\/?(?:\?([^#]*))?$/i.exec(uri);
  if (match === null) throw new InvalidConnectionStringError(uri, EXAMPLE);
  const project = match[1] as string;
  if (project.includes('@')) {
    throw new InvalidConnectionStringError(
      uri,
      'credentials do not go in the URI: the SDK reads them from its usual sources',
    );
  }
  if (project === '') throw new InvalidConnectionStringError(uri, `no project: ${EXAMPLE}`);
  const options: Record<string, unknown> = { projectId: project };
  if (match[2] !== undefined && match[2] !== '')
    options['databaseId'] = decodeURIComponent(match[2]);
  const parameters = queryParameters(match[3] ?? '', (name) => {
    throw new InvalidConnectionStringError(uri, `"${name}" is given twice`);
  });
  for (const [name, value] of parameters) {
    if (!(FIRESTORE_URL_PARAMETERS as readonly string[]).includes(name)) {
      throw new InvalidConnectionStringError(
        uri,
        `unknown parameter "${name}" (known: ${FIRESTORE_URL_PARAMETERS.join(', ')})`,
      );
    }
    options[name] = name === 'operationTimeout' ? Number(value) : value;
  }
  try {
    checkFirestoreOptions(options, 'uri');
  } catch (error) {
    if (isLockError(error)) throw new InvalidConnectionStringError(uri, error.message, error);
    throw error;
  }
  return options as FirestoreBackendOptions;
}
