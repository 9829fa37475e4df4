import { isLockError } from '@lock/core';
import { FaultProxy, type RunningServer, randomKey } from '@lock/testkit';
import { Client } from 'memjs';
import { itemKeys, MemcachedBackend } from '../src/index.js';
import { commandsOf } from './helpers.js';
import { describeMemcached, startMemcached } from './memcached-server.js';

function outcomeOf<T>(promise: Promise<T>): Promise<T | unknown> {
  return promise.catch((error: unknown) => error);
}

describeMemcached(
  'memcached: server commands per call (stats deltas, so they cannot creep up)',
  () => {
    let server: RunningServer;
    let backend: MemcachedBackend;
    let port: number;
    beforeAll(async () => {
      server = await startMemcached();
      port = server.ports[0] as number;
      backend = new MemcachedBackend({ servers: server.url, keyPrefix: 'count:' });
    });
    afterAll(async () => {
      await backend?.close();
      await server?.stop();
    });

    it('an uncontended acquire + release pair is 3 commands: ADD, fence INCR, CAS-guarded DELETE', async () => {
      const key = randomKey();
      await backend.acquire({ key, owner: 'warm.1', ttlMs: 5_000 });
      await backend.release({ key, owner: 'warm.1' });
      const moved = await commandsOf(port, async () => {
        for (let i = 0; i < 20; i++) {
          const owner = `a.${i}`;
          expect(await backend.acquire({ key, owner, ttlMs: 5_000 })).toMatchObject({
            acquired: true,
          });
          expect(await backend.release({ key, owner })).toBe('ok');
        }
      });
      // memcached counts an ADD under cmd_set; the DELETE's CAS is checked, it is not a read.
      expect(moved).toEqual({ cmd_set: 20, incr_hits: 20, delete_hits: 20 });
    });

    it('a keepalive tick of N held locks is N CAS-guarded SETs and nothing else (no reads)', async () => {
      const requests = Array.from({ length: 300 }, (_, i) => ({
        key: `${randomKey()}-${i}`,
        owner: `held.${i}`,
        ttlMs: 30_000,
      }));
      await Promise.all(requests.map((request) => backend.acquire(request)));
      for (let tick = 0; tick < 2; tick++) {
        let results: unknown;
        const moved = await commandsOf(port, async () => {
          results = await backend.extendMany(requests);
        });
        expect(results).toEqual(requests.map(() => 'ok'));
        expect(moved).toEqual({ cmd_set: 300, cas_hits: 300 });
      }
      await Promise.all(requests.map((request) => backend.release(request)));
    });
  },
);

describeMemcached('memcached: a keepalive batch checks each lock’s owner', () => {
  let server: RunningServer;
  let raw: Client;
  let ours: MemcachedBackend;
  let theirs: MemcachedBackend;
  beforeAll(async () => {
    server = await startMemcached();
    raw = Client.create(server.url, { logger: { log() {} } });
    ours = new MemcachedBackend({ servers: server.url, keyPrefix: 'batch:' });
    theirs = new MemcachedBackend({ servers: server.url, keyPrefix: 'batch:' });
  });
  afterAll(async () => {
    await ours?.close();
    await theirs?.close();
    raw?.close();
    await server?.stop();
  });

  it('a lock in the batch that someone else took meanwhile is refused, not extended; one that is gone is not-found', async () => {
    const keys = [randomKey(), randomKey(), randomKey(), randomKey()];
    for (const key of keys) {
      expect(await ours.acquire({ key, owner: 'a.1', ttlMs: 5_000 })).toMatchObject({
        acquired: true,
      });
    }
    // keys[1]: expired (deleted here) and taken by another process, with a short TTL.
    await raw.delete(itemKeys('batch:', keys[1] as string).lock);
    expect(
      await theirs.acquire({ key: keys[1] as string, owner: 'b.1', ttlMs: 3_000 }),
    ).toMatchObject({ acquired: true });
    // keys[3]: gone.
    await raw.delete(itemKeys('batch:', keys[3] as string).lock);
    const results = await ours.extendMany(
      keys.map((key) => ({ key, owner: 'a.1', ttlMs: 60_000 })),
    );
    expect(results).toEqual(['ok', 'forbidden', 'ok', 'not-found']);
    // Their lock is untouched: still theirs, with their own deadline, not our 60 s.
    const held = await theirs.inspect(keys[1] as string);
    expect(held?.owner).toBe('b.1');
    expect(held?.remainingMs).toBeLessThanOrEqual(3_000);
    await expect(theirs.release({ key: keys[1] as string, owner: 'b.1' })).resolves.toBe('ok');
    expect((await ours.inspect(keys[0] as string))?.remainingMs).toBeGreaterThan(50_000);
    for (const key of [keys[0], keys[2]] as string[]) {
      await expect(ours.release({ key, owner: 'a.1' })).resolves.toBe('ok');
    }
  });

  it('a batch whose locks this process never wrote (no remembered CAS) reads them first, then extends only its own', async () => {
    const key = randomKey();
    const other = randomKey();
    await theirs.acquire({ key, owner: 'a.2', ttlMs: 5_000 });
    await theirs.acquire({ key: other, owner: 'b.2', ttlMs: 5_000 });
    const results = await ours.extendMany([
      { key, owner: 'a.2', ttlMs: 5_000 },
      { key: other, owner: 'a.2', ttlMs: 5_000 },
    ]);
    expect(results).toEqual(['ok', 'forbidden']);
    await expect(ours.release({ key, owner: 'a.2' })).resolves.toBe('ok');
    await expect(theirs.release({ key: other, owner: 'b.2' })).resolves.toBe('ok');
  });
});

describeMemcached('memcached: a keepalive batch whose replies are lost', () => {
  let server: RunningServer;
  let proxy: FaultProxy;
  let raw: Client;
  let backend: MemcachedBackend;
  beforeAll(async () => {
    server = await startMemcached();
    raw = Client.create(server.url, { logger: { log() {} } });
    proxy = await FaultProxy.start(server.ports[0] as number);
    backend = new MemcachedBackend({
      servers: [`127.0.0.1:${proxy.port}`],
      keyPrefix: 'lostbatch:',
      timeout: 300,
    });
  });
  afterAll(async () => {
    await backend?.close();
    await proxy?.close();
    raw?.close();
    await server?.stop();
  });

  it('rejects with a BackendError (unknown, not refused); the renewals landed, and the next tick is ok', async () => {
    const requests = [randomKey(), randomKey(), randomKey()].map((key) => ({
      key,
      owner: 'a.1',
      ttlMs: 5_000,
    }));
    for (const request of requests) await backend.acquire(request);
    await proxy.set({ kind: 'drop-replies' });
    const lost = await outcomeOf(
      backend.extendMany(requests.map((request) => ({ ...request, ttlMs: 60_000 }))),
    );
    await proxy.set({ kind: 'pass' });
    expect(isLockError(lost, 'BACKEND')).toBe(true);
    expect((lost as Error).cause).toBeDefined();
    // The SETs reached the server: each item now carries the 60 s deadline.
    const stored = await raw.get(itemKeys('lostbatch:', requests[0]?.key as string).lock);
    expect(stored.value?.toString()).toBe('a.1');
    // Their CAS changed and came on a connection that is gone: the next tick reads them again
    // and finds our own token (a lost reply never turns into a refusal).
    await expect(backend.extendMany(requests)).resolves.toEqual(['ok', 'ok', 'ok']);
    for (const request of requests) {
      await expect(backend.release(request)).resolves.toBe('ok');
    }
  }, 15_000);
});
