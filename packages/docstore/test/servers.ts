import {
  dynaliteServerSpec,
  ferretdbServerSpec,
  firestoreServerSpec,
  type ServerSpec,
  serverAvailable,
} from '@lock/testkit';

function resolveDynalite(): string | undefined {
  try {
    return require.resolve('dynalite/cli.js');
  } catch {
    return undefined;
  }
}

/** FerretDB, or the `mongod` at `LOCK_TEST_MONGODB_URL`. */
export const MONGODB: ServerSpec = ferretdbServerSpec();
/** dynalite. */
export const DYNAMODB: ServerSpec = dynaliteServerSpec(resolveDynalite());
/** The Firestore emulator. */
export const FIRESTORE: ServerSpec = firestoreServerSpec();

/** `describe`, or `describe.skip` (with a loud warning; a failure under CI) when missing. */
export const describeMongo = serverAvailable(MONGODB) ? describe : describe.skip;
/** `describe`, or `describe.skip` (with a loud warning; a failure under CI) when missing. */
export const describeDynamo = serverAvailable(DYNAMODB) ? describe : describe.skip;
/** `describe`, or `describe.skip` (with a loud warning; a failure under CI) when missing. */
export const describeFirestore = serverAvailable(FIRESTORE) ? describe : describe.skip;
