import { isLockError } from '@lock/core';
import { FaultProxy, freePort, type RunningServer, randomKey, sleep } from '@lock/testkit';
import { Client } from 'memjs';
import { itemKeys, MemcachedBackend } from '../src/index.js';
import {
  crashAndRestart,
  describeMemcached,
  startMemcached,
  startMemcachedOnPort,
} from './memcached-server.js';

/**
 * How long memjs waited before resending a failed request (its `retry_delay`): long enough to
 * restart the server and let another process take the lock before a resend would leave.
 */
const RETRY_MS = 2_000;

/** Settles with the result or the error, never rejects. */
function outcomeOf<T>(call: Promise<T>): Promise<T | unknown> {
  return call.then(
    (result) => result,
    (error: unknown) => error,
  );
}

/**
 * The interleaving of issue #8 item 2: `old` holds the lock (its CAS is 1 on a fresh server),
 * sends a CAS-guarded write to a frozen server, the server crashes (the connection is reset) and
 * comes back empty with CAS numbering at 1 again, `next` takes the lock and gets CAS 1. A driver
 * that resends the write on its new connection then applies `old`'s CAS to `next`'s item.
 */
async function writeInFlightAcrossRestart(
  send: (old: MemcachedBackend, key: string) => Promise<unknown>,
): Promise<{ outcome: unknown; holder: string | undefined }> {
  const port = await freePort();
  let server = await startMemcachedOnPort(port);
  const old = new MemcachedBackend({
    servers: [server.url],
    retries: 1,
    retry: RETRY_MS,
    timeout: 10_000,
    operationTimeout: 10_000,
  });
  const next = new MemcachedBackend({ servers: [server.url] });
  try {
    const key = randomKey();
    expect(await old.acquire({ key, owner: 'old.1', ttlMs: 30_000 })).toMatchObject({
      acquired: true,
    });
    await server.pause();
    const outcome = outcomeOf(send(old, key));
    await sleep(100); // the request now sits unread in the frozen server's socket
    server = await crashAndRestart(server);
    expect(await next.acquire({ key, owner: 'new.1', ttlMs: 30_000 })).toMatchObject({
      acquired: true,
    });
    const settled = await outcome;
    await sleep(RETRY_MS + 500); // past the moment a resend would have left
    return { outcome: settled, holder: (await next.inspect(key))?.owner };
  } finally {
    await Promise.all([old.close(), next.close()]);
    await server.stop();
  }
}

describeMemcached('memcached: a CAS-guarded write is never replayed on another connection', () => {
  it('an extend in flight when the server crashes is not resent onto the next holder’s item', async () => {
    const { outcome, holder } = await writeInFlightAcrossRestart((old, key) =>
      old.extend({ key, owner: 'old.1', ttlMs: 30_000 }),
    );
    // Before the fix memjs resent the SET with CAS 1 on its new connection: it overwrote the
    // new holder's item with the old owner's token and reported 'ok' (two holders).
    expect(holder).toBe('new.1');
    expect(isLockError(outcome, 'BACKEND')).toBe(true);
  }, 30_000);

  it('a release in flight when the server crashes is not resent onto the next holder’s item', async () => {
    const { outcome, holder } = await writeInFlightAcrossRestart((old, key) =>
      old.release({ key, owner: 'old.1' }),
    );
    // Before the fix the resent DELETE with CAS 1 deleted the new holder's lock and reported 'ok'.
    expect(holder).toBe('new.1');
    expect(isLockError(outcome, 'BACKEND')).toBe(true);
  }, 30_000);
});

describeMemcached('memcached: a lost reply is an unknown outcome', () => {
  let server: RunningServer;
  let proxy: FaultProxy;
  let raw: Client;
  let backend: MemcachedBackend;
  beforeAll(async () => {
    server = await startMemcached();
    raw = Client.create(server.url, { logger: { log() {} } });
  });
  beforeEach(async () => {
    proxy = await FaultProxy.start(server.ports[0] as number);
    // memjs gives up on a silent connection after 300 ms; a retry would leave 1 s later.
    backend = new MemcachedBackend({
      servers: [`127.0.0.1:${proxy.port}`],
      keyPrefix: 'lost:',
      timeout: 300,
      retries: 1,
      retry: 1_000,
    });
  });
  afterEach(async () => {
    await backend.close();
    await proxy.close();
  });
  afterAll(async () => {
    raw?.close();
    await server?.stop();
  });

  it('a release whose reply is lost reports a BackendError, never not-found from a resend', async () => {
    const key = randomKey();
    await backend.acquire({ key, owner: 'a.1', ttlMs: 30_000 });
    await proxy.set({ kind: 'drop-replies' });
    const outcome = outcomeOf(backend.release({ key, owner: 'a.1' }));
    await sleep(700); // memjs dropped the connection at 300 ms; a resend would leave at 1,300 ms
    await proxy.set({ kind: 'pass' });
    const result = await outcome;
    // The release landed.
    expect((await raw.get(itemKeys('lost:', key).lock)).value).toBeNull();
    // Before the fix memjs resent the DELETE, which found no item and answered not-found:
    // withLock would have reported a lost lock for work done under it.
    expect(result).not.toBe('not-found');
    expect(isLockError(result, 'BACKEND')).toBe(true);
    expect((result as Error).cause).toBeDefined();
  }, 15_000);

  it('an extend whose reply is lost reports a BackendError, and the next extend is ok (not forbidden)', async () => {
    const key = randomKey();
    await backend.acquire({ key, owner: 'a.1', ttlMs: 30_000 });
    await proxy.set({ kind: 'drop-replies' });
    const first = await outcomeOf(backend.extend({ key, owner: 'a.1', ttlMs: 20_000 }));
    expect(isLockError(first, 'BACKEND')).toBe(true);
    await proxy.set({ kind: 'pass' });
    // The first extend landed and changed the item's CAS: the remembered one is stale, and it
    // came on a connection that is gone. Our own earlier write must not look like a theft.
    await expect(backend.extend({ key, owner: 'a.1', ttlMs: 20_000 })).resolves.toBe('ok');
    await expect(backend.release({ key, owner: 'a.1' })).resolves.toBe('ok');
  }, 15_000);

  it('an acquire whose replies are lost is retried whole, and the retry finds its own lock with a larger fence', async () => {
    const key = randomKey();
    const first = await backend.acquire({ key, owner: 'a.1', ttlMs: 30_000 });
    await backend.release({ key, owner: 'a.1' });
    await proxy.set({ kind: 'drop-replies' });
    const outcome = outcomeOf(backend.acquire({ key, owner: 'b.1', ttlMs: 30_000 }));
    await sleep(700); // the ADD and its INCR landed; memjs dropped the connection at 300 ms
    await proxy.set({ kind: 'pass' });
    const second = await outcome;
    expect(second).toMatchObject({ acquired: true });
    if (first.acquired && (second as typeof first).acquired) {
      expect((second as { fence: number }).fence).toBeGreaterThan(first.fence);
    }
    expect((await raw.get(itemKeys('lost:', key).lock)).value?.toString()).toBe('b.1');
    await expect(backend.release({ key, owner: 'b.1' })).resolves.toBe('ok');
  }, 15_000);
});
