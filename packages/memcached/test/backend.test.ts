import { connect, isLockError, registerBackend } from '@lock/core';
import { type RunningServer, randomKey } from '@lock/testkit';
import { Client } from 'memjs';
import { itemKeys, MAX_TTL_MS, MemcachedBackend } from '../src/index.js';
import { describeMemcached, startMemcached } from './memcached-server.js';

describeMemcached('memcached backend on a real server', () => {
  let server: RunningServer;
  let raw: Client;
  let backend: MemcachedBackend;
  beforeAll(async () => {
    server = await startMemcached();
    raw = Client.create(server.url, { logger: { log() {} } });
    backend = new MemcachedBackend({ servers: server.url, keyPrefix: 'b:' });
  });
  afterAll(async () => {
    await backend?.close();
    raw?.close();
    await server?.stop();
  });

  it('stores the owner token as the value under prefix + key, with a fence counter beside it', async () => {
    const key = randomKey();
    const result = await backend.acquire({ key, owner: 'me.secret', ttlMs: 5_000 });
    expect(result).toMatchObject({ acquired: true });
    expect((await raw.get(`b:${key}`)).value?.toString()).toBe('me.secret');
    expect(Number((await raw.get(`b:#f:${key}`)).value?.toString())).toBe(
      (result as { fence: number }).fence,
    );
    await expect(backend.release({ key, owner: 'me.secret' })).resolves.toBe('ok');
    expect((await raw.get(`b:${key}`)).value).toBeNull();
  });

  it('locks keys memcached cannot store as they are (long, spaces, control characters, unicode)', async () => {
    for (const key of ['k'.repeat(1000), 'with space', 'tab\tand\nnewline', 'ключ🔒', '#hash']) {
      const taken = await backend.acquire({ key, owner: 'a.1', ttlMs: 5_000 });
      expect([key, taken.acquired]).toEqual([key, true]);
      expect(await backend.acquire({ key, owner: 'b.1', ttlMs: 5_000 })).toMatchObject({
        acquired: false,
        holder: 'a.1',
      });
      expect((await backend.inspect(key))?.owner).toBe('a.1');
      await expect(backend.extend({ key, owner: 'a.1', ttlMs: 5_000 })).resolves.toBe('ok');
      await expect(backend.release({ key, owner: 'a.1' })).resolves.toBe('ok');
      expect(await backend.inspect(key)).toBeUndefined();
    }
  });

  it('reports the holder’s remaining time from the deadline it wrote', async () => {
    const key = randomKey();
    await backend.acquire({ key, owner: 'a.1', ttlMs: 8_000 });
    const denied = await backend.acquire({ key, owner: 'b.1', ttlMs: 1_000 });
    expect(denied.acquired).toBe(false);
    const remaining = (denied as { remainingMs?: number }).remainingMs as number;
    expect(remaining).toBeGreaterThan(6_000);
    expect(remaining).toBeLessThanOrEqual(8_000);
    await backend.extend({ key, owner: 'a.1', ttlMs: 20_000 });
    expect((await backend.inspect(key))?.remainingMs).toBeGreaterThan(15_000);
    await backend.release({ key, owner: 'a.1' });
  });

  it('extend and release work from another backend instance (no remembered CAS)', async () => {
    const other = new MemcachedBackend({ servers: [server.url], keyPrefix: 'b:' });
    try {
      const key = randomKey();
      await backend.acquire({ key, owner: 'a.1', ttlMs: 5_000 });
      await expect(other.extend({ key, owner: 'a.1', ttlMs: 5_000 })).resolves.toBe('ok');
      // The first backend's remembered CAS is stale now; it must re-read, not fail.
      await expect(backend.extend({ key, owner: 'a.1', ttlMs: 5_000 })).resolves.toBe('ok');
      await expect(other.release({ key, owner: 'b.1' })).resolves.toBe('forbidden');
      await expect(backend.release({ key, owner: 'a.1' })).resolves.toBe('ok');
    } finally {
      await other.close();
    }
  });

  it('an ADD applied twice (memjs retrying after a lost reply) still grants the lock to its owner', async () => {
    const key = randomKey();
    // As if the first ADD reached the server and only its reply was lost.
    await raw.add(`b:${key}`, 'retried.1', { expires: 10 });
    const result = await backend.acquire({ key, owner: 'retried.1', ttlMs: 5_000 });
    expect(result).toMatchObject({ acquired: true });
    await expect(backend.release({ key, owner: 'retried.1' })).resolves.toBe('ok');
  });

  it('a lost fence counter restarts above the fences it handed out, even lost twice in a millisecond', async () => {
    const key = randomKey();
    let previous = 0;
    // Back to back, several of these rounds fall within one millisecond of each other.
    for (let round = 0; round < 20; round++) {
      const owner = `a.${round}`;
      const taken = await backend.acquire({ key, owner, ttlMs: 5_000 });
      const fence = (taken as { fence: number }).fence;
      expect(fence).toBeGreaterThan(previous);
      previous = fence;
      await backend.release({ key, owner });
      await raw.delete(itemKeys('b:', key).fence); // as an eviction would
    }
  });

  it('rejects a TTL memcached would read as a date', async () => {
    const error = await backend
      .acquire({ key: randomKey(), owner: 'a.1', ttlMs: MAX_TTL_MS + 1 })
      .catch((e: unknown) => e);
    expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('never closes a client it was given, and refuses calls once closed', async () => {
    const mine = Client.create(server.url, { logger: { log() {} } });
    try {
      const borrowed = new MemcachedBackend({ client: mine, keyPrefix: 'b:' });
      const key = randomKey();
      await borrowed.acquire({ key, owner: 'a.1', ttlMs: 5_000 });
      await borrowed.close();
      await expect(borrowed.inspect(key)).rejects.toMatchObject({ code: 'CLOSED' });
      expect((await mine.get(`b:${key}`)).value?.toString()).toBe('a.1');
    } finally {
      mine.close();
    }
  });

  it('is what core’s connect() opens for memcached:// URIs', async () => {
    registerBackend('memcached', () => import('../src/index.js'));
    const locker = await connect(`memcached://${server.url}?timeout=1000&keyPrefix=c:`, {
      ttl: 5_000,
    });
    try {
      const key = randomKey();
      const lock = await locker.lock(key);
      expect((await raw.get(`c:${key}`)).value?.toString()).toBe(lock.owner);
      await lock.release();
    } finally {
      await locker.close();
    }
  });
});
