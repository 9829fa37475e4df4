import { createLocker, isLockError } from '@lock/core';
import { freePort, randomKey, startServer } from '@lock/testkit';
import { MemcachedBackend } from '../src/index.js';
import {
  describeMemcached,
  MEMCACHED,
  startMemcached,
  startMemcachedOnPort,
} from './memcached-server.js';

/** Time until `signal` aborts, or Infinity if it does not within `limitMs`. */
function abortsWithin(signal: AbortSignal, limitMs: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    if (signal.aborted) resolve(0);
    const timer = setTimeout(() => resolve(Number.POSITIVE_INFINITY), limitMs);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
  });
}

describeMemcached('memcached: a server that stops or freezes', () => {
  it('after the server stops, calls fail fast with a BackendError and the holder sees the loss', async () => {
    const server = await startMemcached();
    const locker = createLocker(new MemcachedBackend({ servers: [server.url] }), {
      onError: () => {},
    });
    try {
      const ttl = 2_000;
      const held = await locker.tryLock(randomKey(), { ttl });
      const acquiredAt = performance.now();
      await server.stop();
      const started = performance.now();
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).cause).toBeDefined();
      expect(Number.isFinite(await abortsWithin(held.signal, ttl + 2_000))).toBe(true);
      // Judged by the exact TTL on the holder's clock, not the server's whole-second rounding.
      expect(performance.now() - acquiredAt).toBeLessThanOrEqual(ttl + 1_000);
      expect(isLockError(held.signal.reason, 'LOST')).toBe(true);
    } finally {
      await locker.close();
      await server.stop();
    }
  }, 30_000);

  it('while the server is frozen (SIGSTOP), calls fail within a few seconds and the holder’s signal aborts by its own clock', async () => {
    const server = await startMemcached();
    const locker = createLocker(
      new MemcachedBackend({ servers: [server.url], timeout: 500, retries: 1 }),
      { onError: () => {} },
    );
    try {
      const ttl = 2_000;
      const held = await locker.tryLock(randomKey(), { ttl });
      const acquiredAt = performance.now();
      await server.pause();
      const lost = abortsWithin(held.signal, ttl + 3_000);
      const started = performance.now();
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect(Number.isFinite(await lost)).toBe(true);
      expect(performance.now() - acquiredAt).toBeLessThanOrEqual(ttl + 1_000);
      expect(isLockError(held.signal.reason, 'LOST')).toBe(true);
    } finally {
      await server.resume();
      await locker.close();
      await server.stop();
    }
  }, 30_000);

  it('close() while memjs waits to retry leaves no connection behind', async () => {
    const server = await startMemcached();
    const backend = new MemcachedBackend({
      servers: [server.url],
      timeout: 200,
      retries: 2,
      retry: 500,
    });
    try {
      await backend.acquire({ key: randomKey(), owner: 'a.1', ttlMs: 5_000 });
      await server.pause();
      // Times out after 200 ms; memjs then schedules a retry 500 ms later.
      const pending = backend.inspect(randomKey()).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 350));
      await backend.close();
      expect(isLockError(await pending, 'CLOSED')).toBe(true);
      await server.resume();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const sockets = backend.client.servers.map(
        (s) => (s as unknown as { _socket?: object })._socket,
      );
      expect(sockets.every((socket) => socket === undefined)).toBe(true);
    } finally {
      await server.resume();
      await server.stop();
    }
  });

  it('after a restart, an old holder cannot release the new holder’s lock, and fences still grow', async () => {
    const port = await freePort();
    let server = await startMemcachedOnPort(port);
    const old = new MemcachedBackend({ servers: [server.url] });
    const next = new MemcachedBackend({ servers: [server.url] });
    try {
      const key = randomKey();
      const first = await old.acquire({ key, owner: 'old.1', ttlMs: 30_000 });
      expect(first.acquired).toBe(true);
      await server.stop();
      server = await startMemcachedOnPort(port);
      // A fresh server numbers CAS from 1 again, so replay that history on the new item.
      const second = await next.acquire({ key, owner: 'new.1', ttlMs: 30_000 });
      expect(second.acquired).toBe(true);
      if (first.acquired && second.acquired) expect(second.fence).toBeGreaterThan(first.fence);
      await expect(old.release({ key, owner: 'old.1' })).resolves.toBe('forbidden');
      await expect(old.extend({ key, owner: 'old.1', ttlMs: 1_000 })).resolves.toBe('forbidden');
      expect((await next.inspect(key))?.owner).toBe('new.1');
    } finally {
      await Promise.all([old.close(), next.close()]);
      await server.stop();
    }
  }, 30_000);
});

describeMemcached('memcached started without CAS (-C)', () => {
  it('refuses to lock, with a BackendError saying why, and leaves nothing behind', async () => {
    const server = await startServer({
      ...MEMCACHED,
      args: (ports, dir) => ['-C', ...MEMCACHED.args(ports, dir)],
    });
    const backend = new MemcachedBackend({ servers: [server.url] });
    try {
      const key = randomKey();
      const error = await backend
        .acquire({ key, owner: 'a.1', ttlMs: 5_000 })
        .catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).message).toContain('-C');
      expect(await backend.inspect(key)).toBeUndefined();
    } finally {
      await backend.close();
      await server.stop();
    }
  });
});
