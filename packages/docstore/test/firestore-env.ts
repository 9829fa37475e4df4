import { Firestore } from '@google-cloud/firestore';
import type { RunningServer } from '@lock/testkit';
import type { FirestoreLeaseCollection } from '../src/firestore/index.js';
import type { DocstoreBackend } from '../src/index.js';

/** The project every Firestore test uses on the emulator. */
export const TEST_PROJECT = 'lock-test';

/**
 * Points the Firestore SDK at the emulator: `FIRESTORE_EMULATOR_HOST`, and no search for a cloud
 * metadata server (the SDK looks for one even with the emulator host set).
 */
export function useEmulator(server: RunningServer): void {
  process.env['FIRESTORE_EMULATOR_HOST'] = server.url;
  process.env['METADATA_SERVER_DETECTION'] = 'none';
}

/** A raw client on the emulator, warmed up (a fresh emulator spends ~1.2 s on its first read). */
export async function rawFirestore(): Promise<Firestore> {
  const firestore = new Firestore({ projectId: TEST_PROJECT });
  await firestore.collection('warmup').doc('warmup').get();
  return firestore;
}

/**
 * Runs `create` with `FIRESTORE_EMULATOR_HOST` set to `host`: the SDK reads it when a client is
 * made and lets it override the `host` setting, so a client meant for another address needs this.
 */
export function withEmulatorHost<T>(host: string, create: () => T): T {
  const saved = process.env['FIRESTORE_EMULATOR_HOST'];
  process.env['FIRESTORE_EMULATOR_HOST'] = host;
  try {
    return create();
  } finally {
    if (saved === undefined) delete process.env['FIRESTORE_EMULATOR_HOST'];
    else process.env['FIRESTORE_EMULATOR_HOST'] = saved;
  }
}

/**
 * Remembers Firestore backends made in a test file, so its `afterAll` can wait until each one's
 * client is terminated (every request settled, every stream ended) before the file ends and its
 * emulator stops. A gRPC stream that ends after jest has torn the file's environment down fails
 * in google-gax's error decoder ("Cannot read properties of undefined (reading 'options')"),
 * and that failure lands in whichever test file the worker runs next.
 */
export class FirestoreBackends {
  readonly #backends: DocstoreBackend[] = [];

  /** Returns `backend`, remembered. */
  track(backend: DocstoreBackend): DocstoreBackend {
    this.#backends.push(backend);
    return backend;
  }

  /** Closes every remembered backend and waits until each one's client is terminated. */
  async terminateAll(): Promise<void> {
    const backends = this.#backends.splice(0);
    await Promise.all(backends.map((backend) => backend.close()));
    await Promise.all(
      backends.map((backend) => (backend.collection as FirestoreLeaseCollection).terminated),
    );
  }
}
