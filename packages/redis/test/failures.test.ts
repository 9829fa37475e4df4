import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, createLocker, isLockError, registerBackend } from '@lock/core';
import { type RunningServer, randomKey, sleep } from '@lock/testkit';
import { openBackend, RedisBackend } from '../src/index.js';
import { openAndConnect, redisAvailable, startOwnRedis } from './redis-server.js';

const available = redisAvailable();

(available ? describe : describe.skip)('ACL and passwords', () => {
  let server: RunningServer;
  const port = () => server.ports[0] as number;

  beforeAll(async () => {
    server = await startOwnRedis(() => [
      '--requirepass',
      'admin-secret',
      // redis-server reads each ACL rule as its own argument.
      '--user',
      'alice',
      'on',
      '>alice-secret',
      '~*',
      '&*',
      '+@all',
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('the right ACL user and password work, through connect() too', async () => {
    const backend = await openAndConnect(`redis://alice:alice-secret@127.0.0.1:${port()}`);
    const locker = createLocker(backend);
    try {
      const lock = await locker.lock(randomKey(), { timeout: 1_000 });
      expect(lock.fence).toBeGreaterThan(0);
      await lock.release();
    } finally {
      await locker.close();
    }
    registerBackend('redis', async () => ({ openBackend }));
    const viaCore = await connect(`redis://:admin-secret@127.0.0.1:${port()}/2?fair=false`);
    try {
      await (await viaCore.tryLock(randomKey())).release();
    } finally {
      await viaCore.close();
    }
  });

  it('a wrong password fails fast with a clear BackendError that never shows the password', async () => {
    for (const uri of [
      `redis://alice:wrong-secret@127.0.0.1:${port()}`,
      `redis://nobody:wrong-secret@127.0.0.1:${port()}`,
      `redis://127.0.0.1:${port()}`,
    ]) {
      const started = performance.now();
      const error = await openAndConnect(uri, { connectTimeout: 2_000 }).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).cause).toBeDefined();
      expect((error as Error).message).not.toContain('wrong-secret');
      expect(String((error as Error).message)).toMatch(/WRONGPASS|NOAUTH|auth/i);
    }
  });
});

(available ? describe : describe.skip)('a frozen server (SIGSTOP)', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startOwnRedis();
  });
  afterAll(async () => {
    await server?.resume();
    await server?.stop();
  });

  it('calls fail fast with BackendError and a held lock is lost by the holder’s clock', async () => {
    const backend = new RedisBackend({ url: server.url, commandTimeout: 300, connectTimeout: 500 });
    const locker = createLocker(backend, { ttl: 1_500, onError: () => {} });
    const fresh = new RedisBackend({ url: server.url, commandTimeout: 300, connectTimeout: 500 });
    try {
      const held = await locker.tryLock(randomKey());
      const lost = new Promise<unknown>((resolve) =>
        held.signal.addEventListener('abort', () => resolve(held.signal.reason)),
      );
      const pausedAt = performance.now();
      await server.pause();

      const started = performance.now();
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).cause).toBeDefined();

      // A backend that never connected: connect() would hang; ours gives up by its own timer.
      const connectStarted = performance.now();
      const connectError = await fresh
        .acquire({ key: randomKey(), owner: 'a.b', ttlMs: 1_000 })
        .catch((e: unknown) => e);
      expect(performance.now() - connectStarted).toBeLessThan(3_000);
      expect(isLockError(connectError, 'BACKEND')).toBe(true);

      const reason = await lost;
      // Lost by the holder's own clock: within the TTL (+ generous slack), not at some
      // driver timeout, and while the server is still frozen.
      expect(performance.now() - pausedAt).toBeLessThan(1_500 + 1_000);
      expect(isLockError(reason, 'LOST')).toBe(true);
      expect(held.held).toBe(false);

      // The same backend recovers once the server thaws (it dropped the suspect connection).
      await server.resume();
      const deadline = performance.now() + 10_000;
      for (;;) {
        const result = await locker.tryLock(randomKey()).catch((e: unknown) => e);
        if (!(result instanceof Error)) break;
        if (performance.now() > deadline) throw result;
        await sleep(100);
      }
    } finally {
      await server.resume();
      await locker.close();
      await fresh.close();
    }
  });

  it('works again after the server thaws', async () => {
    await server.resume();
    await sleep(50);
    const locker = createLocker(new RedisBackend({ url: server.url }), { onError: () => {} });
    try {
      await (await locker.lock(randomKey(), { timeout: 2_000 })).release();
    } finally {
      await locker.close();
    }
  });
});

(available ? describe : describe.skip)('a server that crashes and restarts', () => {
  it('fails fast while down and recovers by itself once back', async () => {
    const server = await startOwnRedis();
    const backend = new RedisBackend({ url: server.url, commandTimeout: 500 });
    const locker = createLocker(backend, { onError: () => {} });
    try {
      await (await locker.tryLock(randomKey())).release();
      await server.kill();
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      await server.restart(); // the same port, empty
      const deadline = performance.now() + 10_000;
      for (;;) {
        const result = await locker.tryLock(randomKey()).catch((e: unknown) => e);
        if (!(result instanceof Error)) break;
        if (performance.now() > deadline) throw result;
        await sleep(100);
      }
    } finally {
      await locker.close();
      await server.stop();
    }
  });
});
