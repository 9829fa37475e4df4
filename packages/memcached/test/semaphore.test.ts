// Semaphores and read-write locks on memcached through core's compare-and-set fallback: where
// the record lives, what a pair costs, and the issue #8 lessons (a CAS-guarded write goes out
// once, only on the connection its CAS came from; a lost reply is an unknown outcome).
import { createLocker, isLockError, semaphoreOpsOf, systemClock } from '@lock/core';
import {
  FaultProxy,
  freePort,
  type RunningServer,
  randomKey,
  sleep,
  startServer,
} from '@lock/testkit';
import { Client } from 'memjs';
import { itemKeys, MemcachedBackend } from '../src/index.js';
import { commandsOf, itemTtlSeconds } from './helpers.js';
import {
  crashAndRestart,
  describeMemcached,
  MEMCACHED,
  startMemcached,
  startMemcachedOnPort,
} from './memcached-server.js';

function outcomeOf<T>(promise: Promise<T>): Promise<T | unknown> {
  return promise.catch((error: unknown) => error);
}

describeMemcached('memcached semaphores: the record', () => {
  let server: RunningServer;
  let port: number;
  let raw: Client;
  beforeAll(async () => {
    server = await startMemcached();
    port = server.ports[0] as number;
    raw = Client.create(server.url, { logger: { log() {} } });
  });
  afterAll(async () => {
    raw?.close();
    await server?.stop();
  });

  it('lives at itemKeys().semaphore, apart from the mutex of the same name, and never expires', async () => {
    const locker = createLocker(new MemcachedBackend({ servers: server.url, keyPrefix: 'rec:' }), {
      ttl: 2_000,
    });
    try {
      const key = randomKey();
      const lock = await locker.tryLock(key);
      const permit = await locker.semaphore(key, { permits: 2 }).tryAcquire();
      const keys = itemKeys('rec:', key);
      expect(keys.semaphore).toBe(`rec:#s:${key}`);
      const record = JSON.parse((await raw.get(keys.semaphore)).value?.toString() ?? 'null');
      expect(record).toMatchObject({ kind: 'semaphore', permits: 2, fence: permit.fence });
      expect((await raw.get(keys.lock)).value?.toString()).toBe(lock.owner);
      // The lock item expires with its TTL; the record, which holds the fence counter, never.
      expect(await itemTtlSeconds(port, keys.lock)).toBeGreaterThan(0);
      expect(await itemTtlSeconds(port, keys.semaphore)).toBe(-1);
      await permit.release();
      await lock.release();
      // Idle: still there, so the next grant's fence is larger.
      expect(await itemTtlSeconds(port, keys.semaphore)).toBe(-1);
      const next = await locker.semaphore(key, { permits: 2 }).tryAcquire();
      expect(next.fence).toBeGreaterThan(permit.fence);
      await next.release();
    } finally {
      await locker.close();
    }
  });

  it('an uncontended acquire + release of one permit is 4 commands: GET + CAS SET, twice', async () => {
    const backend = new MemcachedBackend({ servers: server.url, keyPrefix: 'count:' });
    try {
      const ops = semaphoreOpsOf(backend, systemClock);
      const key = randomKey();
      const request = {
        key,
        mode: 'permit',
        count: 1,
        permits: 3,
        ttlMs: 5_000,
        wait: false,
      } as const;
      // The first grant creates the record (GET, ADD); later ones find it idle.
      await ops.acquire({ ...request, owner: 'warm.1' });
      await ops.release({ key, owner: 'warm.1' });
      const moved = await commandsOf(port, async () => {
        for (let i = 0; i < 20; i++) {
          const owner = `a.${i}`;
          expect(await ops.acquire({ ...request, owner })).toMatchObject({
            acquired: true,
          });
          expect(await ops.release({ key, owner })).toBe('ok');
        }
      });
      expect(moved).toEqual({ cmd_get: 40, cmd_set: 40, cas_hits: 40 });
    } finally {
      await backend.close();
    }
  });

  it('a keepalive tick of 100 permits of one key held by one locker is one GET and one CAS SET', async () => {
    const locker = createLocker(
      new MemcachedBackend({ servers: server.url, keyPrefix: 'tick:' }),
      { ttl: 3_000 }, // renewed every second
    );
    try {
      const semaphore = locker.semaphore(randomKey(), { permits: 100 });
      const permits = [];
      for (let i = 0; i < 100; i++) permits.push(await semaphore.tryAcquire());
      const moved = await commandsOf(port, () => sleep(2_200)); // two ticks
      const reads = moved['cmd_get'] ?? 0;
      // Before core's fallback had extendMany, each permit was renewed by a compare-and-set of
      // its own on the same record: ~1,000 GETs and SETs a tick, most of them conflicts.
      expect(reads).toBeGreaterThanOrEqual(1);
      // A tick whose reply is late on a loaded machine is retried sooner: allow for one or two.
      expect(reads).toBeLessThanOrEqual(4);
      expect(moved).toEqual({ cmd_get: reads, cmd_set: reads, cas_hits: reads });
      expect(permits.every((p) => p.held)).toBe(true);
      // One at a time: 100 concurrent releases of one key would contend for its record.
      for (const permit of permits) await permit.release();
    } finally {
      await locker.close();
    }
  });

  it('a server without CAS (-C) is refused with a BackendError saying why', async () => {
    const noCas = await startServer({
      ...MEMCACHED,
      args: (ports, dir) => ['-C', ...MEMCACHED.args(ports, dir)],
    });
    const locker = createLocker(new MemcachedBackend({ servers: noCas.url }));
    try {
      const semaphore = locker.semaphore(randomKey(), { permits: 2 });
      for (let i = 0; i < 2; i++) {
        const error = await outcomeOf(semaphore.tryAcquire());
        expect(isLockError(error, 'BACKEND')).toBe(true);
        expect((error as Error).message).toContain('-C');
      }
    } finally {
      await locker.close();
      await noCas.stop();
    }
  });
});

describeMemcached(
  'memcached semaphores: a record write never reaches a restarted server with an old CAS',
  () => {
    /** A fresh server on a fixed port (so it restarts at the same address), and two backends. */
    async function setUp() {
      const port = await freePort();
      const server = await startMemcachedOnPort(port);
      const old = new MemcachedBackend({
        servers: [server.url],
        retries: 1,
        retry: 2_000,
        timeout: 10_000,
        operationTimeout: 10_000,
      });
      const next = new MemcachedBackend({ servers: [server.url] });
      return { server, old, next };
    }

    it('a version read before the restart is not sent after it (conflict), even once reconnected', async () => {
      let { server, old, next } = await setUp();
      try {
        const key = randomKey();
        expect(await old.writeRecord(key, 'old record', undefined)).toBe('ok');
        const before = await old.readRecord(key);
        server = await crashAndRestart(server);
        expect(await next.writeRecord(key, 'new record', undefined)).toBe('ok');
        // old reconnects (a read of another key), so memjs would write on a live connection.
        expect(await old.readRecord(randomKey())).toBeUndefined();
        // Both records were the first item written on a fresh server: the same CAS. Sent with it,
        // the SET would overwrite the new record.
        expect((await next.readRecord(key))?.version.split(':')[1]).toBe(
          before?.version.split(':')[1],
        );
        expect(await old.writeRecord(key, 'old overwrite', before?.version)).toBe('conflict');
        expect((await next.readRecord(key))?.value).toBe('new record');
      } finally {
        await Promise.all([old.close(), next.close()]);
        await server.stop();
      }
    }, 30_000);

    it('a record write in flight when the server crashes is not resent onto the next record', async () => {
      let { server, old, next } = await setUp();
      try {
        const key = randomKey();
        expect(await old.writeRecord(key, 'old record', undefined)).toBe('ok');
        const before = await old.readRecord(key);
        await server.pause();
        const outcome = outcomeOf(old.writeRecord(key, 'old overwrite', before?.version));
        await sleep(100); // the SET now sits unread in the frozen server's socket
        server = await crashAndRestart(server);
        expect(await next.writeRecord(key, 'new record', undefined)).toBe('ok');
        const settled = await outcome;
        await sleep(2_500); // past the moment a resend would have left
        expect(isLockError(settled, 'BACKEND')).toBe(true);
        expect((await next.readRecord(key))?.value).toBe('new record');
      } finally {
        await Promise.all([old.close(), next.close()]);
        await server.stop();
      }
    }, 30_000);
  },
);

describeMemcached('memcached semaphores: a lost reply', () => {
  let server: RunningServer;
  let proxy: FaultProxy;
  let backend: MemcachedBackend;
  beforeAll(async () => {
    server = await startMemcached();
  });
  beforeEach(async () => {
    proxy = await FaultProxy.start(server.ports[0] as number);
    backend = new MemcachedBackend({
      servers: [`127.0.0.1:${proxy.port}`],
      keyPrefix: 'lostsem:',
      timeout: 1_000, // memjs gives up on a silent connection after this
      retries: 1,
      retry: 1_000,
    });
  });
  afterEach(async () => {
    await backend.close();
    await proxy.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('an acquire whose record write landed without a reply rejects; asked again, it finds its own grant', async () => {
    const ops = semaphoreOpsOf(backend, systemClock);
    const key = randomKey();
    const request = {
      key,
      owner: 'a.1',
      mode: 'permit',
      count: 2,
      permits: 2,
      ttlMs: 30_000,
      wait: false,
    } as const;
    // The record exists, so the grant is a CAS-guarded SET (never resent).
    const first = await ops.acquire({ ...request, owner: 'warm.1', count: 1 });
    expect(first).toMatchObject({ acquired: true });
    await ops.release({ key, owner: 'warm.1' });
    const read = backend.readRecord.bind(backend);
    // Replies dropped only once the read is answered: the SET lands, its reply is lost.
    backend.readRecord = async (k: string) => {
      const record = await read(k);
      await proxy.set({ kind: 'drop-replies' });
      return record;
    };
    const lost = await outcomeOf(ops.acquire(request));
    backend.readRecord = read;
    await proxy.set({ kind: 'pass' });
    expect(isLockError(lost, 'BACKEND')).toBe(true);
    const again = await ops.acquire(request);
    expect(again).toMatchObject({ acquired: true });
    expect((again as { fence: number }).fence).toBeGreaterThan((first as { fence: number }).fence);
    const info = await ops.inspect(key);
    expect(info?.holders.map((h) => h.owner)).toEqual(['a.1']);
    // The same grant, not a second one: one fence was handed out after the warm-up's.
    expect(info?.fence).toBe((first as { fence: number }).fence + 1);
    expect(await ops.release({ key, owner: 'a.1' })).toBe('ok');
  }, 15_000);
});

describeMemcached(
  'memcached semaphores: a crashed holder (the fallback’s observation clock)',
  () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startMemcached();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('a waiter that arrives late frees the permits one TTL after its first read, never before the holder’s own TTL', async () => {
      const ttl = 1_000;
      // The holder's process "crashes" right after its grant: its connection is cut and stays cut,
      // so nothing it does afterwards (a release on loss) reaches the server.
      const proxy = await FaultProxy.start(server.ports[0] as number);
      const crashed = createLocker(
        new MemcachedBackend({
          servers: [`127.0.0.1:${proxy.port}`],
          keyPrefix: 'crash:',
          retries: 0,
        }),
        { keepalive: false },
      );
      const late = createLocker(new MemcachedBackend({ servers: server.url, keyPrefix: 'crash:' }));
      try {
        const key = randomKey();
        const grantSent = performance.now();
        const held = await crashed.semaphore(key, { permits: 1 }).tryAcquire({ ttl });
        await proxy.set({ kind: 'refuse' });
        await sleep(ttl * 0.7); // the holder "crashed" at once; the waiter comes along later
        const arrived = performance.now();
        const taken = await late.semaphore(key, { permits: 1 }).acquire({ timeout: 10_000 });
        const granted = performance.now();
        expect(held.held).toBe(false);
        // Safety: not before the holder's own TTL, counted from when its grant was sent.
        expect(granted - grantSent).toBeGreaterThanOrEqual(ttl);
        // The bound: one TTL from the waiter's first read, plus its last retry delay (at most
        // core's 100 ms maximum backoff) and round trips; generous for a loaded machine.
        expect(granted - arrived).toBeGreaterThanOrEqual(ttl);
        expect(granted - arrived).toBeLessThan(ttl + 1_000);
        expect(taken.fence).toBeGreaterThan(held.fence);
        await taken.release();
      } finally {
        await Promise.all([crashed.close(), late.close()]);
      }
    }, 20_000);
  },
);
