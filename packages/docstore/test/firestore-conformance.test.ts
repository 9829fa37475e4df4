import type { Firestore } from '@google-cloud/firestore';
import { type RunningServer, runConformanceSuite, startServer } from '@lock/testkit';
import { createFirestoreBackend } from '../src/firestore/index.js';
import {
  FirestoreBackends,
  rawFirestore,
  TEST_PROJECT,
  useEmulator,
  withEmulatorHost,
} from './firestore-env.js';
import { closedPort } from './helpers.js';
import { describeFirestore, FIRESTORE } from './servers.js';

describeFirestore('firestore adapter', () => {
  let server: RunningServer;
  let raw: Firestore;
  const backends = new FirestoreBackends();
  beforeAll(async () => {
    server = await startServer(FIRESTORE);
    useEmulator(server);
    raw = await rawFirestore();
  }, 90_000);
  // Waits for the unreachable backends too, whose reads the SDK retries for ~45 s.
  afterAll(async () => {
    await backends.terminateAll();
    await raw?.terminate();
    await server?.stop();
  }, 90_000);

  runConformanceSuite({
    name: 'firestore',
    createBackend: async (namespace) =>
      backends.track(
        createFirestoreBackend({
          projectId: TEST_PROJECT,
          keyPrefix: `${namespace}:`,
          // The emulator is one JVM on a shared 2-core machine: under the seed scenario's load a
          // read has taken over 5 s there. This bounds liveness only; no safety check depends on it.
          operationTimeout: 20_000,
        }),
      ),
    forceDelete: async (namespace, key) => {
      await raw.collection('locks').doc(`${namespace}:${key}`).delete();
    },
    createUnreachableBackend: async () => {
      const port = await closedPort();
      return backends.track(
        withEmulatorHost(`127.0.0.1:${port}`, () =>
          createFirestoreBackend({ projectId: TEST_PROJECT, operationTimeout: 2_000 }),
        ),
      );
    },
    // 300 contenders, not 1000: each handoff waits for the emulator's snapshot of the release
    // (~0.1 s on this shared machine), so 1000 handoffs took 72 to 119 s, against the scenario's
    // 120 s wait limit. Mutual exclusion and fence order are checked the same way.
    capabilities: { minTtlMs: 500, expirySlackMs: 200, seedContenders: 300, semaphores: true },
  });
});
