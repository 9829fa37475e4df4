import { Firestore } from '@google-cloud/firestore';
import { createLocker, isLockError } from '@lock/core';
import { type RunningServer, randomKey, randomNamespace, startServer } from '@lock/testkit';
import { createFirestoreBackend, FirestoreLeaseCollection } from '../src/firestore/index.js';
import { rawFirestore, TEST_PROJECT, useEmulator } from './firestore-env.js';
import { describeFirestore, FIRESTORE } from './servers.js';

/**
 * 'terminated' when `client` refuses a new write as terminated, else 'open'. (A write: a read
 * sent to a terminated client never settles, the SDK drops its refusal.)
 */
async function clientState(client: Firestore): Promise<'terminated' | 'open'> {
  const error = await client
    .collection('probe')
    .doc(randomKey())
    .set({ probe: true })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  return String((error as Error | undefined)?.message).includes('terminated')
    ? 'terminated'
    : 'open';
}

/** 'settled' when `promise` had settled before this call, else 'pending'. */
async function stateOf(promise: Promise<unknown>): Promise<'settled' | 'pending'> {
  const settled = promise.then(
    () => 'settled' as const,
    () => 'settled' as const,
  );
  // After the microtasks of a settled promise, before any I/O callback.
  const pending = new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')));
  return Promise.race([settled, pending]);
}

describeFirestore('firestore shutdown', () => {
  let server: RunningServer;
  let raw: Firestore;
  beforeAll(async () => {
    server = await startServer(FIRESTORE);
    useEmulator(server);
    raw = await rawFirestore();
  }, 90_000);
  afterAll(async () => {
    await raw?.terminate();
    await server?.stop();
  });

  it('close() resolves once the client it owns is terminated, after the requests in flight settled', async () => {
    const client = new Firestore({ projectId: TEST_PROJECT });
    const collection = new FirestoreLeaseCollection(client, randomNamespace(), true);
    const read = collection.get('a');
    const write = collection.create('b', { owner: 'o', leaseMs: 1_000, fence: 1, writeId: 'w' });
    await collection.close();
    expect(await stateOf(read)).toBe('settled');
    expect(await stateOf(write)).toBe('settled');
    expect(await clientState(client)).toBe('terminated');
    await expect(stateOf(collection.terminated)).resolves.toBe('settled');
  }, 30_000);

  it("a backend's close() stops its waiters' listeners and terminates its client", async () => {
    const prefix = `${randomNamespace()}:`;
    const holder = createLocker(backendOn(prefix), { onError: () => {} });
    const waiterBackend = backendOn(prefix);
    const waiter = createLocker(waiterBackend, { onError: () => {} });
    try {
      const key = randomKey();
      await holder.tryLock(key, { ttl: 10_000 });
      // The waiter listens to the key's document (onSnapshot) while it waits.
      const waiting = waiter.lock(key, { timeout: 20_000 }).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await waiter.close();
      expect(isLockError(await waiting, 'CLOSED')).toBe(true);
      const collection = waiterBackend.collection as FirestoreLeaseCollection;
      expect(await stateOf(collection.terminated)).toBe('settled');
    } finally {
      await Promise.all([holder.close(), waiter.close()]);
    }
  }, 30_000);
});

function backendOn(keyPrefix: string) {
  return createFirestoreBackend({ projectId: TEST_PROJECT, collection: 'shutdown', keyPrefix });
}
